import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// The client tests' job processing delay: long enough that the client's polls (20–100 ms) see a job in progress.
let clientJobDelay: Duration = .milliseconds(60)

/// What the client tests need of the shared emulator helper: a grant, a fast-polling client, expected pages.
extension TestEmulator {
    var passwordGrant: OAuthGrant {
        .password(
            clientId: configuration.clientId, clientSecret: configuration.clientSecret,
            username: configuration.username, password: configuration.password,
            securityToken: configuration.securityToken)
    }

    /// Fast polls and retries so fault tests stay quick.
    func clientConfiguration(grant: OAuthGrant? = nil) -> SalesforceConfiguration {
        var configuration = SalesforceConfiguration(loginURL: emulator.baseURL, grant: grant ?? passwordGrant)
        configuration.pollInitialInterval = .milliseconds(20)
        configuration.pollMaxInterval = .milliseconds(100)
        configuration.retryBaseDelay = .milliseconds(10)
        configuration.retryMaxDelay = .milliseconds(50)
        configuration.jobTimeout = .seconds(30)
        configuration.connectTimeoutSeconds = 5
        configuration.lowSpeedTimeSeconds = 10
        return configuration
    }

    func client(grant: OAuthGrant? = nil, cancellation: CancellationFlag = CancellationFlag()) -> SalesforceClient {
        SalesforceClient(configuration: clientConfiguration(grant: grant), cancellation: cancellation)
    }

    /// Requests whose path contains `fragment`.
    func requests(_ method: String, containing fragment: String) -> [RecordedRequest] {
        emulator.requests.filter { $0.method == method && $0.path.contains(fragment) }
    }

    /// The CSV the emulator should serve for `fields` of `object`, split into pages of `pageSize` rows, each with
    /// its own header row.
    func expectedPages(_ object: String, fields: [String], pageSize: Int, includeDeleted: Bool = false) -> [[UInt8]] {
        let rows = emulator.org.truth(object, fields: fields, includeDeleted: includeDeleted)
        let header = csvLine(fields.map { Optional($0) })
        return stride(from: 0, to: rows.count, by: pageSize).map { start in
            var page = header
            for row in rows[start..<min(start + pageSize, rows.count)] { page += csvLine(row) }
            return page
        }
    }

    private func csvLine(_ values: [String?]) -> [UInt8] {
        let cells = values.map { value in "\"" + (value ?? "").replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return Array((cells.joined(separator: ",") + "\n").utf8)
    }
}

/// A consumer that keeps constant state: a running hash of every byte, per-page counters, and the first line of
/// each page. It never stores page bodies.
final class HashingConsumer: ResultPageConsumer {
    enum Event: Equatable {
        case begin(Int), finish(Int, Int), discard(Int)
    }

    var events: [Event] = []
    var hash = FNV1a()
    private var pageHash = FNV1a()
    var pageHashes: [UInt64] = []
    var bytes = 0
    var consumeCalls = 0
    var largestChunk = 0
    var pageHeaders: [String] = []
    private var currentHeader: [UInt8] = []
    private var headerDone = false
    var failOnPage: Int?

    func beginPage(_ number: Int) throws {
        events.append(.begin(number))
        pageHash = FNV1a()
        currentHeader = []
        headerDone = false
    }

    func consume(_ chunk: UnsafeRawBufferPointer) throws {
        struct ConsumerFailure: Error {}
        if let failOnPage, events.last == .begin(failOnPage) { throw ConsumerFailure() }
        consumeCalls += 1
        largestChunk = max(largestChunk, chunk.count)
        bytes += chunk.count
        pageHash.add(chunk)
        for byte in chunk where !headerDone {
            if byte == 10 { headerDone = true } else { currentHeader.append(byte) }
        }
    }

    func finishPage(_ number: Int, recordCount: Int) throws {
        events.append(.finish(number, recordCount))
        pageHashes.append(pageHash.value)
        pageHeaders.append(String(decoding: currentHeader, as: UTF8.self))
    }

    func discardPage(_ number: Int) throws {
        events.append(.discard(number))
    }

    var discards: Int { events.filter { if case .discard = $0 { true } else { false } }.count }

    /// Pages begun and not yet finished or discarded: must be empty whenever a download has returned or thrown.
    var openPages: [Int] {
        var open: [Int] = []
        for event in events {
            switch event {
            case .begin(let n): open.append(n)
            case .finish(let n, _), .discard(let n): open.removeAll { $0 == n }
            }
        }
        return open
    }

    /// Finished pages' record counts in order.
    var finishedRecords: [Int] {
        events.compactMap { if case .finish(_, let records) = $0 { records } else { nil } }
    }
}

/// 64-bit FNV-1a, enough to compare streamed bytes with expected ones without keeping either.
struct FNV1a: Equatable {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0100_0000_01b3
        }
    }

    static func of(_ bytes: [UInt8]) -> UInt64 {
        var hash = FNV1a()
        bytes.withUnsafeBytes { hash.add($0) }
        return hash.value
    }
}

/// Sets the flag from another thread after `delay`.
func cancel(_ flag: CancellationFlag, after delay: Duration) {
    let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
    Thread.detachNewThread {
        Thread.sleep(forTimeInterval: seconds)
        flag.cancel()
    }
}

let contactFields = ["Id", "FirstName", "LastName", "Email", "SystemModstamp"]
let contactSOQL = "SELECT Id, FirstName, LastName, Email, SystemModstamp FROM Contact"
