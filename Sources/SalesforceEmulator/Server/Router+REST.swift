import CivilTime
import Foundation
import Synchronization

/// A REST query's materialized rows, paged through `nextRecordsUrl` (`/query/01g…-2000`).
struct RESTCursor: Sendable {
    var selection: Selection
    var batchSize: Int
}

/// REST cursors by id. Thread-safe.
final class CursorStore: Sendable {
    private let state = Mutex<(cursors: [String: RESTCursor], next: Int)>(([:], 1))

    func add(_ cursor: RESTCursor) -> String {
        state.withLock { state in
            let id = SalesforceId.make(prefix: "01g", index: state.next)
            state.next += 1
            state.cursors[id] = cursor
            return id
        }
    }

    func get(_ id: String) -> RESTCursor? { state.withLock { $0.cursors[id] } }
    func removeAll() { state.withLock { $0.cursors.removeAll() } }
}

extension Router {
    /// `GET /services/data/vXX.X/`: the resources of a version, as a name → URL object.
    func resourceList(version: String) -> EmulatorResponse {
        let base = "/services/data/v\(version)"
        let names = [
            "tooling", "metadata", "eclair", "folders", "prechatForms", "chatter", "tabs", "appMenu", "quickActions",
            "queryAll", "commerce", "wave", "iot", "analytics", "search", "composite", "parameterizedSearch",
            "fingerprint", "theme", "nouns", "event", "serviceTemplates", "recent", "connect", "licensing", "limits",
            "process", "async-queries", "query", "emailConnect", "compactLayouts", "knowledgeManagement", "sobjects",
            "actions", "support", "jobs",
        ]
        var members: [(String, JSONValue)] = names.map { ($0, .string("\(base)/\($0)")) }
        members.append(("identity", .string(identityURL())))
        return .json(200, .object(members))
    }

    func identityURL() -> String {
        "https://login.salesforce.com/id/\(tokens.orgId18)/\(SalesforceId.make(prefix: "005", index: 0))"
    }

    /// `GET /query?q=…` and `/queryAll?q=…` (first batch), `/query/{cursor}-{offset}` (next batches).
    func restQuery(_ request: EmulatorRequest, rest: [String], version: String, all: Bool) -> EmulatorResponse {
        if rest.count == 2 {
            let parts = rest[1].split(separator: "-", maxSplits: 1)
            guard parts.count == 2, let offset = Int(parts[1]), let cursor = cursors.get(String(parts[0])),
                offset >= 0, offset <= cursor.selection.rows.total
            else {
                return .error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            }
            return restBatch(cursor, cursorId: String(parts[0]), offset: offset, version: version, endpoint: rest[0])
        }
        guard let soql = request.query["q"], !soql.isEmpty else {
            return .error(400, "MALFORMED_QUERY", "A query string has to be specified")
        }
        let snapshot = org.snapshot()
        let query: SOQLQuery
        let table: ObjectTable
        do {
            if let refused = refuseQuery(soql) { return refused }
            switch try SOQLParser.parseREST(soql, snapshot: snapshot, now: nowMillis()) {
            case .records(let q, let t):
                if let refused = refuseWeight(q.columns, table: t) { return refused }
                (query, table) = (q, t)
            case .aggregate(let q, let t): return aggregateResponse(q, table: t, snapshot: snapshot, all: all)
            }
        } catch {
            return .error(400, error.code, error.message)
        }
        // `Sforce-Query-Options: batchSize=n` asks for 200…2000 records per batch; 2000 is the default.
        var batchSize = 2000
        if let options = request.header("Sforce-Query-Options"),
            let value = options.split(separator: ",").compactMap({ part -> Int? in
                let kv = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                return kv.count == 2 && kv[0].lowercased() == "batchsize" ? Int(kv[1]) : nil
            }).first
        {
            batchSize = min(2000, max(200, value))
        }
        let selection = Selection(query: query, table: table, snapshot: snapshot, includeDeleted: all)
        let cursor = RESTCursor(selection: selection, batchSize: batchSize)
        // Salesforce creates a cursor only for a result that does not fit one batch ("API Query Cursor Limits").
        // Each stored cursor holds its snapshot: the next change of the object copies the object's table.
        let id = selection.rows.total > batchSize ? cursors.add(cursor) : ""
        return restBatch(cursor, cursorId: id, offset: 0, version: version, endpoint: rest[0])
    }

    private func restBatch(_ cursor: RESTCursor, cursorId: String, offset: Int, version: String, endpoint: String)
        -> EmulatorResponse
    {
        let selection = cursor.selection
        let total = selection.rows.total
        let end = min(total, offset + cursor.batchSize)
        var records: [JSONValue] = []
        selection.rows.forEach(from: offset, to: end) { i in
            records.append(restRecord(
                row: i, columns: selection.query.columns, table: selection.table, snapshot: selection.snapshot,
                version: version))
            return true
        }
        var members: [(String, JSONValue)] = [("totalSize", .int(total)), ("done", .bool(end >= total))]
        // Salesforce leaves nextRecordsUrl out of the last batch.
        if end < total {
            members.append(("nextRecordsUrl", .string("/services/data/v\(version)/\(endpoint)/\(cursorId)-\(end)")))
        }
        members.append(("records", .array(records)))
        // Salesforce dates every response (RFC 7231), in its own clock: clients take it as the query's snapshot time.
        return .json(200, .object(members), headers: [("Date", Router.httpDate(millis: nowMillis()))])
    }

    /// One record as REST JSON: `attributes {type, url}`, typed values, relationship columns as nested records.
    func restRecord(row i: Int, columns: [SOQLColumn], table: ObjectTable, snapshot: OrgSnapshot, version: String)
        -> JSONValue
    {
        let root = RecordNode(object: table.schema.name, id: table.value(0, i, snapshot.generator))
        for column in columns {
            let value = column.value(row: i, table: table, snapshot: snapshot)
            let definition = column.definition(in: table)
            switch column {
            case .field(_, let header):
                root.set(header, Self.json(value, type: definition?.type ?? .string))
            case .parent(let hops, let objects, let field, let header):
                // Walk the path, creating (or finding) the nested record of each relationship.
                let names = header.split(separator: ".").map(String.init)
                var node = root
                var id = table.value(hops[0], i, snapshot.generator)
                for k in 0..<hops.count {
                    if k > 0 {
                        let refName = snapshot.schema(objects[k])?.fields[hops[k]].name ?? ""
                        id = snapshot.lookup(id: id, field: refName)
                    }
                    guard let child = node.child(names[k], object: objects[k + 1], id: id) else { break }
                    node = child
                    if k == hops.count - 1 { node.set(field, Self.json(value, type: definition?.type ?? .string)) }
                }
            }
        }
        return root.json(version: version)
    }

    /// A field value as Salesforce's REST JSON types it.
    static func json(_ value: String?, type: FieldType) -> JSONValue {
        guard let value else { return .null }
        switch type {
        case .boolean: return .bool(value == "true")
        case .int, .long: return .number(value)
        case .double, .currency, .percent: return Double(value) != nil ? .number(value) : .string(value)
        case .datetime: return .string(Timestamps.parseDatetime(value).map(Timestamps.restDatetime(millis:)) ?? value)
        default: return .string(value)
        }
    }

    /// `GET /sobjects/{Object}`: basic information and recently viewed items.
    func basicInfo(_ table: ObjectTable, version: String) -> EmulatorResponse {
        let s = table.schema
        let base = "/services/data/v\(version)/sobjects/\(s.name)"
        let flags: [(String, Bool)] = [
            ("activateable", false), ("createable", true), ("custom", s.name.hasSuffix("__c")), ("customSetting", false),
            ("deletable", true), ("deprecatedAndHidden", false), ("feedEnabled", false), ("hasSubtypes", false),
            ("isSubtype", false), ("layoutable", true), ("mergeable", s.name != "Opportunity"), ("mruEnabled", true),
            ("queryable", true), ("replicateable", isReplicateable(s.name)), ("retrieveable", true), ("searchable", true),
            ("triggerable", true), ("undeletable", s.name != "User"), ("updateable", true),
        ]
        var members: [(String, JSONValue)] = flags.map { ($0.0, JSONValue.bool($0.1)) }
        members.append(("keyPrefix", .string(s.keyPrefix)))
        members.append(("label", .string(s.label)))
        members.append(("labelPlural", .string(s.labelPlural)))
        members.append(("name", .string(s.name)))
        let urls: [(String, JSONValue)] = [
            ("rowTemplate", .string(base + "/{ID}")), ("describe", .string(base + "/describe")),
            ("sobject", .string(base)),
        ]
        members.append(("urls", .object(urls)))
        let describe = JSONValue.object(members.sorted { $0.0 < $1.0 })
        return .json(200, .object([("objectDescribe", describe), ("recentItems", .array([]))]))
    }

    /// `GET /sobjects/{Object}/{id}[?fields=…]`: one record with every (or the listed) field.
    func record(_ table: ObjectTable, id: String, request: EmulatorRequest, version: String) -> EmulatorResponse {
        let snapshot = org.snapshot()
        guard let table = snapshot.table(table.schema.name), let canonical = SalesforceId.canonical(id),
            let i = table.index(of: canonical), !table.hidden.contains(i),
            SalesforceId.make(prefix: table.schema.keyPrefix, index: i) == canonical
        else {
            return .error(404, "NOT_FOUND", "The requested resource does not exist")
        }
        if table.isDeleted(i) { return .error(404, "ENTITY_IS_DELETED", "entity is deleted") }
        let schema = table.schema
        let wanted = request.query["fields"].map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }) }
        var members: [(String, JSONValue)] = [
            ("attributes", .object([
                ("type", .string(schema.name)), ("url", .string("/services/data/v\(version)/sobjects/\(schema.name)/\(canonical)")),
            ])),
        ]
        for (f, field) in schema.fields.enumerated() where !table.removedFields.contains(f) {
            if let wanted, !wanted.contains(field.name.lowercased()) { continue }
            if field.isCompound {
                members.append((field.name, compoundAddress(field.name, row: i, table: table, snapshot: snapshot)))
            } else {
                members.append((field.name, Self.json(table.value(f, i, snapshot.generator), type: field.type)))
            }
        }
        return .json(200, .object(members))
    }

    /// An address field as REST returns it: an object of its components (`city`, `postalCode`, …), null when empty.
    private func compoundAddress(_ name: String, row i: Int, table: ObjectTable, snapshot: OrgSnapshot) -> JSONValue {
        let prefix = String(name.dropLast("Address".count))
        var members: [(String, JSONValue)] = []
        var any = false
        for (f, field) in table.schema.fields.enumerated() where field.compoundFieldName == name {
            let component = String(field.name.dropFirst(prefix.count))
            let key = component.prefix(1).lowercased() + component.dropFirst()
            let value = table.value(f, i, snapshot.generator)
            if value != nil { any = true }
            members.append((key, Self.json(value, type: field.type)))
        }
        return any ? .object(members.sorted { $0.0 < $1.0 }) : .null
    }
}

/// A REST record being assembled, with nested parent records in first-use order.
private final class RecordNode {
    let object: String
    let id: String?
    var members: [(String, Value)] = []

    enum Value {
        case leaf(JSONValue)
        case node(RecordNode?)
    }

    init(object: String, id: String?) {
        self.object = object
        self.id = id
    }

    func set(_ name: String, _ value: JSONValue) {
        if members.contains(where: { $0.0 == name }) { return }
        members.append((name, .leaf(value)))
    }

    /// The nested record under `name`, created on first use; `nil` (serialized as null) when the reference is empty.
    func child(_ name: String, object: String, id: String?) -> RecordNode? {
        if let existing = members.first(where: { $0.0 == name }) {
            if case .node(let node) = existing.1 { return node }
            return nil
        }
        let node = id == nil ? nil : RecordNode(object: object, id: id)
        members.append((name, .node(node)))
        return node
    }

    func json(version: String) -> JSONValue {
        var out: [(String, JSONValue)] = [
            ("attributes", .object([
                ("type", .string(object)),
                ("url", id.map { .string("/services/data/v\(version)/sobjects/\(object)/\($0)") } ?? .null),
            ])),
        ]
        for (name, value) in members {
            switch value {
            case .leaf(let v): out.append((name, v))
            case .node(let node): out.append((name, node?.json(version: version) ?? .null))
            }
        }
        return .object(out)
    }
}

extension Router {
    /// `Mon, 07 Dec 2026 00:19:36 GMT`.
    static func httpDate(millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(
            Date.VerbatimFormatStyle(
                format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
                locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT")!, calendar: Calendar(identifier: .gregorian)))
    }
}
