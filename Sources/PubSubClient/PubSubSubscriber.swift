import Avro
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PubSubAPI
import SalesforceClient
import Synchronization

/// A client of Salesforce's Pub/Sub API for Change Data Capture: one HTTP/2 connection to the endpoint, topic and
/// schema lookups (each schema fetched once per id), and subscriptions that yield decoded ``ChangeEvent``s with
/// flow control.
///
/// ```swift
/// let subscriber = try PubSubSubscriber(endpoint: try PubSubEndpoint("api.pubsub.salesforce.com:7443"))
/// let auth = try salesforceClient.pubSubAuthentication()
/// for try await item in subscriber.subscribe(to: "/data/ContactChangeEvent", from: .after(storedReplayId), auth: auth) {
///     switch item {
///     case .event(let event): apply(event)             // then store event.replayId with the rows
///     case .keepalive(let replayId): store(replayId)  // nothing new: the position moved on anyway
///     }
/// }
/// await subscriber.close()
/// ```
public final class PubSubSubscriber: Sendable {
    public let endpoint: PubSubEndpoint
    private let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, any Error>
    private let schemas = Mutex<[String: AvroSchema]>([:])

    /// Connects lazily: nothing goes over the network before the first call.
    /// - Throws: `PubSubError` `.failed` when the transport cannot be set up (a CA bundle it cannot read).
    public init(endpoint: PubSubEndpoint) throws {
        self.endpoint = endpoint
        let security: HTTP2ClientTransport.Posix.TransportSecurity =
            if !endpoint.tls { .plaintext } else if let ca = endpoint.caBundlePath {
                .tls { $0.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
            } else { .tls }
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: ResolvableTargets.DNS(host: endpoint.host, port: endpoint.port), transportSecurity: security)
            let grpc = GRPCClient(transport: transport)
            self.grpc = grpc
            connections = Task { try await grpc.runConnections() }
        } catch {
            throw PubSubError(code: .failed, message: "Cannot set up the connection to \(endpoint): \(error)")
        }
    }

    /// Ends every call and the connection.
    public func close() async {
        grpc.beginGracefulShutdown()
        connections.cancel()
        _ = await connections.result
    }

    private var api: Eventbus_V1_PubSub.Client<HTTP2ClientTransport.Posix> { .init(wrapping: grpc) }

    /// `GetTopic`: whether the topic exists for this org and may be subscribed to, and its current schema id.
    public func topic(_ name: String, auth: PubSubAuthentication) async throws(PubSubError) -> PubSubTopic {
        var request = Eventbus_V1_TopicRequest()
        request.topicName = name
        do {
            let info = try await api.getTopic(request, metadata: auth.metadata)
            return PubSubTopic(
                name: info.topicName, tenantId: info.tenantGuid, canSubscribe: info.canSubscribe, schemaId: info.schemaID)
        } catch { throw PubSubError.from(error, doing: "GetTopic \(name)") }
    }

    /// `GetSchema`, once per schema id: later calls answer from the cache.
    public func schema(id: String, auth: PubSubAuthentication) async throws(PubSubError) -> AvroSchema {
        if let known = schemas.withLock({ $0[id] }) { return known }
        var request = Eventbus_V1_SchemaRequest()
        request.schemaID = id
        do {
            let schema = try AvroSchema(json: try await api.getSchema(request, metadata: auth.metadata).schemaJson)
            schemas.withLock { $0[id] = schema }
            return schema
        } catch { throw PubSubError.from(error, doing: "GetSchema \(id)") }
    }

    /// Subscribes to `topic` (`/data/ContactChangeEvent`, `/data/ChangeEvents`) from `start`.
    ///
    /// At most `batchSize` events are requested ahead of the consumer: more are asked for only as it takes them, so
    /// a slow consumer holds the stream back instead of filling memory. The sequence ends by throwing
    /// ``PubSubError``; ending the iteration (or cancelling its task) ends the subscription.
    public func subscribe(
        to topic: String, from start: ReplayStart, auth: PubSubAuthentication, batchSize: Int = 100
    ) -> PubSubSubscription {
        let batch = max(1, min(batchSize, 1_000))
        let (items, output) = AsyncThrowingStream<SubscriptionItem, any Error>.makeStream()
        let (credits, creditInput) = AsyncStream<Int>.makeStream()
        let call = Task { [api] in
            do {
                try await api.subscribe(
                    metadata: auth.metadata,
                    requestProducer: { writer in
                        try await writer.write(Self.firstRequest(topic, start, batch))
                        for await more in credits {
                            var request = Eventbus_V1_FetchRequest()
                            request.numRequested = Int32(more)
                            try await writer.write(request)
                        }
                    },
                    onResponse: { response in
                        for try await message in response.messages {
                            try await self.deliver(message, to: output, auth: auth)
                        }
                    })
                // Salesforce keeps a live subscription open; the server ending it is a drop like any other.
                output.finish(throwing: PubSubError(code: .streamDropped, message: "Subscribe \(topic): the server ended the stream."))
            } catch {
                output.finish(throwing: PubSubError.from(error, doing: "Subscribe \(topic)"))
            }
        }
        output.onTermination = { _ in
            call.cancel()
            creditInput.finish()
        }
        return PubSubSubscription(items: items, credits: creditInput, batch: batch)
    }

    private static func firstRequest(_ topic: String, _ start: ReplayStart, _ batch: Int) -> Eventbus_V1_FetchRequest {
        var request = Eventbus_V1_FetchRequest()
        request.topicName = topic
        request.numRequested = Int32(batch)
        switch start {
        case .latest: request.replayPreset = .latest
        case .earliest: request.replayPreset = .earliest
        case .after(let replayId):
            request.replayPreset = .custom
            request.replayID = Data(replayId)
        }
        return request
    }

    private func deliver(
        _ message: Eventbus_V1_FetchResponse, to output: AsyncThrowingStream<SubscriptionItem, any Error>.Continuation,
        auth: PubSubAuthentication
    ) async throws {
        guard !message.events.isEmpty else {
            output.yield(.keepalive(latestReplayId: Array(message.latestReplayID)))
            return
        }
        for consumer in message.events {
            let schema = try await schema(id: consumer.event.schemaID, auth: auth)
            output.yield(
                .event(try ChangeEvent(payload: Array(consumer.event.payload), schema: schema, replayId: Array(consumer.replayID))))
        }
    }
}

/// Where a subscription starts.
public enum ReplayStart: Sendable, Hashable {
    /// New events only.
    case latest
    /// The oldest event still retained (Salesforce keeps 72 hours).
    case earliest
    /// The events after this replay id (one stored from an applied event or a keepalive).
    case after([UInt8])
}

/// What a subscription yields, in stream order.
public enum SubscriptionItem: Sendable, Hashable {
    case event(ChangeEvent)
    /// An empty batch: no events to deliver, and the stream's position is now `latestReplayId`; storing it keeps a
    /// later resubscription from starting at a replay id that ages out of the retention window on a quiet topic.
    case keepalive(latestReplayId: [UInt8])
}

/// `GetTopic`'s answer.
public struct PubSubTopic: Sendable, Hashable {
    public var name: String
    public var tenantId: String
    public var canSubscribe: Bool
    /// The topic's current event schema (empty for `/data/ChangeEvents`, whose events each name theirs).
    public var schemaId: String
}

extension PubSubAuthentication {
    /// The call metadata Salesforce's Pub/Sub API authenticates by.
    var metadata: Metadata {
        ["accesstoken": .string(accessToken), "instanceurl": .string(instanceURL), "tenantid": .string(tenantId)]
    }
}
