import Dispatch
import Foundation
import PostgresLoader
import SalesforceClient

/// Turns SIGINT/SIGTERM into a cooperative cancel: the Salesforce client stops its transfer or poll, a running
/// PostgreSQL statement is cancelled, the runner aborts the Bulk job, rolls back and records the run as cancelled.
/// A second signal exits at once.
final class SignalTrap {
    let cancellation = CancellationFlag()
    private let sources: [any DispatchSourceSignal]
    private let canceller: PostgresCanceller?

    init(postgres: PostgresCanceller?) {
        canceller = postgres
        var sources: [any DispatchSourceSignal] = []
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [cancellation, canceller] in
                if cancellation.isCancelled { Foundation.exit(130) }
                if LoggingSetup.format == .text { FileHandle.standardError.write(Data("\n".utf8)) }
                Console.write(.notice, "sfpg: stopping (signal received); again to exit at once")
                cancellation.cancel()
                canceller?.cancel()
            }
            source.resume()
        }
    }
}
