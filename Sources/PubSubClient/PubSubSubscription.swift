/// The items of one subscription (see ``PubSubSubscriber/subscribe(to:from:auth:batchSize:)``). Taking events is
/// what asks the server for more: once half a batch is consumed, that many more are requested, so at most one batch
/// is ever requested and not yet consumed.
public struct PubSubSubscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionItem
    let items: AsyncThrowingStream<SubscriptionItem, any Error>
    let credits: AsyncStream<Int>.Continuation
    let batch: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: items.makeAsyncIterator(), credits: credits, batch: batch)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<SubscriptionItem, any Error>.Iterator
        let credits: AsyncStream<Int>.Continuation
        let batch: Int
        var taken = 0

        /// The next event or keepalive; throws ``PubSubError`` when the subscription fails.
        public mutating func next() async throws -> SubscriptionItem? {
            guard let item = try await base.next() else { return nil }
            if case .event = item {
                taken += 1
                if taken >= (batch + 1) / 2 {
                    credits.yield(taken)
                    taken = 0
                }
            }
            return item
        }
    }
}
