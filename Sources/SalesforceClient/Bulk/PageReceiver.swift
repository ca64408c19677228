import Logging

/// One result page on its way to a ``ResultPageConsumer``: begins the consumer's page on the first byte, counts
/// records as bytes pass, judges the page against `Sforce-NumberOfRecords` when it ends, and discards the
/// consumer's page when the attempt is abandoned so the retry starts it again.
final class PageReceiver: ResponseStream {
    let consumer: any ResultPageConsumer
    let number: Int
    /// The job reported 0 records: an empty body without a record count is then complete.
    let jobIsEmpty: Bool
    let logger: Logger
    /// Whether the consumer's page is open (a COPY may be under way).
    private(set) var begun = false
    private(set) var counter = CSVRecordCounter()

    init(_ consumer: any ResultPageConsumer, number: Int, jobIsEmpty: Bool, logger: Logger) {
        self.consumer = consumer
        self.number = number
        self.jobIsEmpty = jobIsEmpty
        self.logger = logger
    }

    func receive(_ bytes: UnsafeRawBufferPointer) throws {
        if !begun {
            try consumer.beginPage(number)
            begun = true
        }
        try consumer.consume(bytes)
        counter.add(bytes)
    }

    func problem(in response: HTTPResponse) -> String? {
        counter.problem(announced: SalesforceClient.announcedRecords(response), jobIsEmpty: jobIsEmpty)
    }

    func restart() throws {
        defer { counter = CSVRecordCounter() }
        guard begun else { return }
        logger.debug(
            "Discarding incomplete page",
            metadata: ["sf.page": .stringConvertible(number), "sf.bytes": .stringConvertible(counter.bytes)])
        begun = false
        try consumer.discardPage(number)
    }
}
