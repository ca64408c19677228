import Foundation
import SalesforceEmulator
import TestSupport

/// A test HTTP client that runs `/usr/bin/curl`, so the emulator is exercised over a real socket by a client that
/// shares no code with sfpg. curl does not decode gzip unless asked, so tests see the raw wire body.
struct CurlResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    /// curl's exit code (0 = transfer complete; 18 = partial file; 56 = receive failure).
    var exitCode: Int32

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }

    func object() throws -> [String: Any] {
        guard let object = try json() as? [String: Any] else { throw CurlError.notJSONObject(text) }
        return object
    }

    /// `errorCode` of a Salesforce JSON-array error body.
    func errorCode() -> String? { ((try? json()) as? [[String: Any]])?.first?["errorCode"] as? String }
    func errorMessage() -> String? { ((try? json()) as? [[String: Any]])?.first?["message"] as? String }
}

enum CurlError: Error {
    case notJSONObject(String)
    case timedOut(String)
}

enum Curl {
    static func request(
        _ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil,
        curlArguments: [String] = []
    ) throws -> CurlResponse {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let headerFile = dir.appendingPathComponent("headers").path
        let bodyFile = dir.appendingPathComponent("body").path
        var arguments = ["-s", "-X", method, "-D", headerFile, "-o", bodyFile, "--max-time", "30"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body {
            let requestBody = dir.appendingPathComponent("request").path
            try Data(body.utf8).write(to: URL(fileURLWithPath: requestBody))
            arguments += ["--data-binary", "@\(requestBody)"]
        }
        arguments += curlArguments
        arguments.append(url)
        let process = try TestSyncProcess("/usr/bin/curl", arguments, environment: [:])
        let exitCode = process.wait(timeout: .seconds(60))  // curl's own --max-time is 30 s
        let rawHeaders = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        var status = 0
        var parsed: [String: String] = [:]
        for line in rawHeaders.split(separator: "\r\n") {
            if line.hasPrefix("HTTP/") {
                status = Int(line.split(separator: " ")[1]) ?? 0
            } else if let colon = line.firstIndex(of: ":") {
                parsed[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))).map(Array.init) ?? []
        return CurlResponse(status: status, headers: parsed, body: body, exitCode: exitCode)
    }

    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            .joined(separator: "&")
    }
}

/// A logged-in Bulk API session against an emulator.
struct Session {
    let base: String
    let token: String
    var version = "62.0"

    init(_ emulator: TestEmulator, version: String = "62.0") throws {
        base = emulator.baseURL
        self.version = version
        token = try Self.login(base).object()["access_token"] as? String ?? ""
    }

    /// The token response of a password-grant login with the emulator's default credentials.
    static func login(_ base: String) throws -> CurlResponse {
        try Curl.request(
            "POST", "\(base)/services/oauth2/token",
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Curl.form([
                ("grant_type", "password"), ("client_id", "sfpg-emulator-client"),
                ("client_secret", "emulator-secret"), ("username", "integration@sfpg.example"),
                ("password", "emulator-passwordemulatorToken"),
            ]))
    }

    var auth: [String: String] { ["Authorization": "Bearer \(token)"] }

    func get(_ path: String, headers: [String: String] = [:]) throws -> CurlResponse {
        try Curl.request("GET", "\(base)/services/data/v\(version)\(path)", headers: auth.merging(headers) { $1 })
    }

    func send(_ method: String, _ path: String, json: String) throws -> CurlResponse {
        try Curl.request(
            method, "\(base)/services/data/v\(version)\(path)",
            headers: auth.merging(["Content-Type": "application/json"]) { $1 }, body: json)
    }

    /// Creates a job; returns the create response.
    func create(_ soql: String, operation: String = "query", extra: String = "") throws -> CurlResponse {
        let escaped = soql.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return try send("POST", "/jobs/query", json: #"{"operation":"\#(operation)","query":"\#(escaped)"\#(extra)}"#)
    }

    /// Polls until the job is terminal; returns the final JobInfo.
    func wait(_ id: String) throws -> [String: Any] {
        for _ in 0..<500 {
            let info = try get("/jobs/query/\(id)").object()
            if let state = info["state"] as? String, ["JobComplete", "Failed", "Aborted"].contains(state) { return info }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw CurlError.timedOut(id)
    }

    /// Creates a job, waits for it, and returns its id (the job must complete).
    func run(_ soql: String, operation: String = "query", extra: String = "") throws -> String {
        let id = try create(soql, operation: operation, extra: extra).object()["id"] as? String ?? "?"
        _ = try wait(id)
        return id
    }

    /// Follows the locator chain; returns every page response.
    func pages(_ id: String, maxRecords: Int? = nil, gzip: Bool = false) throws -> [CurlResponse] {
        var pages: [CurlResponse] = []
        var locator: String?
        repeat {
            var query: [String] = []
            if let locator { query.append("locator=\(locator)") }
            if let maxRecords { query.append("maxRecords=\(maxRecords)") }
            let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
            let page = try get("/jobs/query/\(id)/results\(suffix)", headers: gzip ? ["Accept-Encoding": "gzip"] : [:])
            pages.append(page)
            locator = page.header("Sforce-Locator")
            if page.status != 200 || pages.count > 1000 { break }
        } while locator != "null"
        return pages
    }
}

/// A quote-aware CSV reader for assertions (every field quoted, as the emulator writes).
enum CSV {
    static func rows(_ text: String, delimiter: Character = ",") -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var iterator = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { inQuotes = false; pending = next }
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
            } else if c == delimiter {
                row.append(field); field = ""
            } else if c == "\n" || c == "\r\n" {
                row.append(field); field = ""
                rows.append(row); row = []
            } else if c != "\r" {
                field.append(c)
            }
        }
        if !row.isEmpty || !field.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
