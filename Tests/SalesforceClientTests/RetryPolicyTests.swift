import Foundation
import Testing

@testable import SalesforceClient

/// The retry rule as a pure function: no server, no clock, no randomness but the jitter passed in.
@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxRetries: 3, baseDelay: .milliseconds(500), maxDelay: .seconds(30))

    @Test(arguments: [
        (RetryPolicy.Failure.status(500), true), (.status(503), true), (.status(429), true), (.status(420), true),
        (.status(406), true), (.status(400), false), (.status(403), false), (.status(404), false), (.status(412), false),
        (.transport(.timeout), true), (.transport(.connection), true), (.transport(.tls), false),
        (.transport(.other), false), (.incompleteBody, true),
    ])
    func retriesWhatAnotherAttemptCanFix(failure: RetryPolicy.Failure, retryable: Bool) {
        #expect(RetryPolicy.isRetryable(failure) == retryable)
        let decision = policy.decide(retriesSoFar: 0, failure: failure, retryAfter: nil, jitter: 1)
        #expect(decision == (retryable ? .retry(after: .milliseconds(500)) : .giveUp))
    }

    @Test func delaysDoubleUpToTheCapThenItGivesUp() {
        let long = RetryPolicy(maxRetries: 10, baseDelay: .milliseconds(500), maxDelay: .seconds(3))
        let delays = (0..<10).map { long.decide(retriesSoFar: $0, failure: .status(503), retryAfter: nil, jitter: 1) }
        #expect(Array(delays.prefix(5)) == [0.5, 1, 2, 3, 3].map { .retry(after: .milliseconds(Int64($0 * 1000))) })
        #expect(long.decide(retriesSoFar: 10, failure: .status(503), retryAfter: nil, jitter: 1) == .giveUp)
        #expect(policy.decide(retriesSoFar: 3, failure: .incompleteBody, retryAfter: nil, jitter: 1) == .giveUp)
        // A huge attempt number neither overflows nor exceeds the cap.
        let huge = RetryPolicy(maxRetries: .max, baseDelay: .seconds(1), maxDelay: .seconds(30))
        #expect(huge.decide(retriesSoFar: 5_000, failure: .status(500), retryAfter: nil, jitter: 1) == .retry(after: .seconds(30)))
    }

    @Test func jitterScalesTheDelayIntoItsUpperHalf() {
        func delay(_ jitter: Double) -> RetryPolicy.Decision {
            policy.decide(retriesSoFar: 1, failure: .status(500), retryAfter: nil, jitter: jitter)
        }
        #expect(delay(0) == .retry(after: .milliseconds(500)))
        #expect(delay(0.5) == .retry(after: .milliseconds(750)))
        #expect(delay(1) == .retry(after: .seconds(1)))
        #expect(delay(-3) == delay(0) && delay(7) == delay(1))
    }

    @Test func retryAfterLongerThanTheBackoffIsHonouredUpToItsCap() {
        func delay(_ retryAfter: Duration?) -> RetryPolicy.Decision {
            policy.decide(retriesSoFar: 0, failure: .status(429), retryAfter: retryAfter, jitter: 1)
        }
        #expect(delay(.seconds(7)) == .retry(after: .seconds(7)))
        #expect(delay(.zero) == .retry(after: .milliseconds(500)))
        #expect(delay(.seconds(3_600)) == .retry(after: .seconds(300)))
        // Retry-After never turns a refusal into a retry.
        #expect(policy.decide(retriesSoFar: 0, failure: .status(400), retryAfter: .seconds(1), jitter: 1) == .giveUp)
    }

    @Test func retryAfterHeadersAreReadAsSecondsOrDates() {
        let now = Date(timeIntervalSince1970: 1_792_000_000)
        #expect(RetryPolicy.retryAfter("120", now: now) == .seconds(120))
        #expect(RetryPolicy.retryAfter(" 0 ", now: now) == .zero)
        #expect(RetryPolicy.retryAfter(nil, now: now) == nil)
        for junk in ["", "-5", "soon", "1.5", "１２"] { #expect(RetryPolicy.retryAfter(junk, now: now) == nil, "\(junk)") }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(RetryPolicy.retryAfter(format.string(from: now + 90), now: now) == .seconds(90))
        #expect(RetryPolicy.retryAfter(format.string(from: now - 90), now: now) == .zero)
    }

    @Test func curlCodesAreSortedByWhatARetryCanDo() {
        #expect(TransportFailure(curlCode: 28) == .timeout)
        #expect([6, 7, 52, 56].map { TransportFailure(curlCode: $0) }.allSatisfy { $0 == .connection })
        #expect([35, 60].map { TransportFailure(curlCode: $0) }.allSatisfy { $0 == .tls })
        #expect(TransportFailure(curlCode: 1) == .other)
    }
}

/// The policy as the client applies it, over real HTTP: a server's `Retry-After` is waited for.
@Suite(.timeLimit(.minutes(3))) struct RetryAfterTests {
    @Test func aThrottledRequestWaitsAsLongAsTheServerAsks() throws {
        let server = try CapturingListener(
            response: "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 2\r\nConnection: close\r\n\r\n[]")
        let origin = "http://127.0.0.1:\(server.port)"
        var configuration = SalesforceConfiguration(
            loginURL: origin, grant: .accessToken(token: "00D!not-a-real-token", instanceURL: origin))
        configuration.maxRetries = 1
        configuration.retryBaseDelay = .milliseconds(10)
        configuration.retryMaxDelay = .milliseconds(20)
        let started = ContinuousClock.now
        let error = try #require(throws: SalesforceError.self) { _ = try SalesforceClient(configuration: configuration).limits() }
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(error.httpStatus == 429)
        #expect(error.message.contains("Gave up after 2 attempts"))
        server.stop()
        #expect(server.connections == 2)
    }
}
