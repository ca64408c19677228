import Foundation

/// How a transport failure came about, from libcurl's code: it decides both the message and whether a retry helps.
enum TransportFailure: Equatable {
    /// A total or low-speed time limit was hit (`CURLE_OPERATION_TIMEDOUT`).
    case timeout
    /// DNS, connect, reset, a dropped or empty reply: another connection may well succeed.
    case connection
    /// Certificate or handshake: the same server will present the same certificate, so retrying does not help.
    case tls
    /// Anything else libcurl reports (bad option, out of memory, …).
    case other

    init(curlCode: UInt32) {
        switch curlCode {
        case 28: self = .timeout
        case 6, 7, 8, 16, 18, 52, 55, 56, 61, 92: self = .connection
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: self = .tls
        default: self = .other
        }
    }
}

/// Whether a failed request is sent again, and after how long.
///
/// A pure function of what happened (the failure, how many retries were spent, the server's `Retry-After`, a
/// random draw for jitter), so every request (token, job, page) follows one rule and the rule is tested without
/// a server. The delay is `baseDelay · 2^retries`, capped at `maxDelay`, scaled into 50–100% by the jitter so
/// that clients failing together do not retry together; a `Retry-After` longer than that is honoured, up to
/// ``maxRetryAfter``.
struct RetryPolicy: Equatable {
    /// What went wrong with one attempt.
    enum Failure: Equatable {
        case transport(TransportFailure)
        /// A complete HTTP answer with this (non-2xx) status.
        case status(Int)
        /// A 2xx body that is provably not whole (cut gzip, short of `Content-Length`, records missing).
        case incompleteBody
    }

    enum Decision: Equatable {
        case retry(after: Duration)
        case giveUp
    }

    /// Retries after the first attempt.
    var maxRetries: Int
    var baseDelay: Duration
    var maxDelay: Duration
    /// The longest `Retry-After` waited for: a server asking for an hour must not hold a run that long per request.
    var maxRetryAfter: Duration = .seconds(300)

    /// - Parameters:
    ///   - retriesSoFar: retries already spent on this request (0 after the first attempt failed).
    ///   - retryAfter: the server's `Retry-After` (see ``retryAfter(_:now:)``), if it sent one.
    ///   - jitter: a draw from `0...1`; the caller passes a random one, tests a fixed one.
    func decide(retriesSoFar: Int, failure: Failure, retryAfter: Duration?, jitter: Double) -> Decision {
        guard Self.isRetryable(failure), retriesSoFar < maxRetries else { return .giveUp }
        let exponential = baseDelay * (1 << min(max(retriesSoFar, 0), 30))
        var delay = min(exponential, maxDelay) * (0.5 + 0.5 * min(max(jitter, 0), 1))
        if let retryAfter { delay = max(delay, min(retryAfter, maxRetryAfter)) }
        return .retry(after: delay)
    }

    /// Server trouble (5xx), throttling (429, and 406/420 from Salesforce's edge), dropped connections, timeouts
    /// and cut bodies are worth another try; a refused request (other 4xx) or a TLS failure is not.
    static func isRetryable(_ failure: Failure) -> Bool {
        switch failure {
        case .transport(let kind): kind == .timeout || kind == .connection
        case .status(let status): status >= 500 || [406, 420, 429].contains(status)
        case .incompleteBody: true
        }
    }

    /// A `Retry-After` value: delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`) relative to
    /// `now`; `nil` when absent or unreadable, zero for a date in the past.
    static func retryAfter(_ header: String?, now: Date) -> Duration? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.allSatisfy(\.isASCII), let seconds = Int(text), seconds >= 0 { return .seconds(seconds) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = format.date(from: text) else { return nil }
        return .milliseconds(max(0, Int64((date.timeIntervalSince(now) * 1000).rounded(.up))))
    }
}
