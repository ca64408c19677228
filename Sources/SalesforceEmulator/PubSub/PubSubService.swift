import Foundation
import GRPCCore
import PubSubAPI
import Synchronization

/// Salesforce's Pub/Sub API (`eventbus.v1.PubSub`) over the emulator's change events: `GetTopic`, `GetSchema` and
/// `Subscribe` with `FetchRequest` flow control and the LATEST / EARLIEST / CUSTOM replay presets. Every call
/// authenticates by its metadata (`accesstoken`, `instanceurl`, `tenantid`) and fails as Salesforce's does, with the
/// Pub/Sub error code in the `error-code` trailer (Pub/Sub API Developer Guide, "Handle Errors").
struct PubSubService: Eventbus_V1_PubSub.ServiceProtocol {
    let router: Router
    var bus: ChangeEventBus { router.org.changes }

    static let authErrorCode = "sfdc.platform.eventbus.grpc.service.auth.error"
    static let replayErrorCode = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"

    func getTopic(request: ServerRequest<Eventbus_V1_TopicRequest>, context: ServerContext) async throws
        -> ServerResponse<Eventbus_V1_TopicInfo>
    {
        try authorize(request.metadata)
        let name = request.message.topicName
        guard let entity = bus.entity(ofTopic: name) else { throw Self.topicNotFound(name) }
        var info = Eventbus_V1_TopicInfo()
        (info.topicName, info.tenantGuid, info.canPublish, info.canSubscribe) = (name, router.tokens.orgId18, false, true)
        info.schemaID = entity.flatMap { bus.schemas[$0.lowercased()]?.id } ?? ""
        info.rpcID = UUID().uuidString.lowercased()
        return ServerResponse(message: info)
    }

    func getSchema(request: ServerRequest<Eventbus_V1_SchemaRequest>, context: ServerContext) async throws
        -> ServerResponse<Eventbus_V1_SchemaInfo>
    {
        try authorize(request.metadata)
        guard let schema = bus.schema(id: request.message.schemaID) else {
            throw RPCError(
                code: .notFound, message: "Schema \(request.message.schemaID) not found.",
                metadata: ["error-code": "sfdc.platform.eventbus.grpc.schema.not.found"])
        }
        var info = Eventbus_V1_SchemaInfo()
        (info.schemaJson, info.schemaID, info.rpcID) = (schema.json, schema.id, UUID().uuidString.lowercased())
        return ServerResponse(message: info)
    }

    func subscribe(request: StreamingServerRequest<Eventbus_V1_FetchRequest>, context: ServerContext) async throws
        -> StreamingServerResponse<Eventbus_V1_FetchResponse>
    {
        try authorize(request.metadata)
        return StreamingServerResponse { writer in
            let subscription = Subscription()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await subscription.take(request.messages) }
                group.addTask { try await deliver(subscription, to: writer) }
                // Either side ending ends the stream: the client half-closing, an error, a fault.
                _ = try await group.next()
                group.cancelAll()
            }
            return [:]
        }
    }

    /// Sends events as the subscription's credit allows, else a keepalive with the latest replay id now and then.
    private func deliver(_ subscription: Subscription, to writer: RPCWriter<Eventbus_V1_FetchResponse>) async throws {
        let first = try await subscription.firstRequest()
        guard let entity = bus.entity(ofTopic: first.topicName) else { throw Self.topicNotFound(first.topicName) }
        guard var position = bus.start(first.replayPreset.rawValue, replayId: Array(first.replayID), now: router.clock.now())
        else {
            throw RPCError(
                code: .invalidArgument,
                message: "The Replay ID validation failed. The replay ID is invalid or outside the retention window.",
                metadata: ["error-code": .string(Self.replayErrorCode)])
        }
        let keepalive = bus.state.withLock { $0.keepalive }
        var lastSent = ContinuousClock.now
        while true {
            try Task.checkCancellation()
            let want = subscription.credit
            let (events, readTo) = want > 0 ? bus.events(after: position, entity: entity, limit: min(want, 500)) : ([], position)
            if bus.takeDrop(sending: events.count) {
                throw RPCError(code: .unavailable, message: "RST_STREAM closed stream. HTTP/2 error code: CANCEL")
            }
            if want > 0 { position = events.count == min(want, 500) ? events[events.count - 1].replay : readTo }
            guard !events.isEmpty || ContinuousClock.now - lastSent >= keepalive else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            subscription.spend(events.count)
            var response = Eventbus_V1_FetchResponse()
            response.events = events.map(Self.consumerEvent)
            response.latestReplayID = Data(ChangeEventBus.encode(position))
            response.pendingNumRequested = Int32(clamping: want - events.count)
            response.rpcID = UUID().uuidString.lowercased()
            try await writer.write(response)
            lastSent = .now
        }
    }

    private static func consumerEvent(_ event: ChangeEventBus.Event) -> Eventbus_V1_ConsumerEvent {
        var consumer = Eventbus_V1_ConsumerEvent()
        consumer.event.id = UUID().uuidString.lowercased()
        consumer.event.schemaID = event.schemaId
        consumer.event.payload = Data(event.payload)
        consumer.replayID = Data(ChangeEventBus.encode(event.replay))
        return consumer
    }

    /// Salesforce's checks: a valid session token, and the org it belongs to named as the tenant.
    private func authorize(_ metadata: Metadata) throws {
        func value(_ key: String) -> String { metadata[stringValues: key].first { _ in true } ?? "" }
        let tenant = value("tenantid").lowercased()
        guard router.tokens.isValid(value("accesstoken")), !value("instanceurl").isEmpty,
            tenant == router.tokens.orgId.lowercased() || tenant == router.tokens.orgId18.lowercased()
        else {
            throw RPCError(
                code: .unauthenticated,
                message: "The session is invalid or expired, or the tenant id and instance URL do not match it.",
                metadata: ["error-code": .string(Self.authErrorCode)])
        }
    }

    private static func topicNotFound(_ name: String) -> RPCError {
        RPCError(
            code: .notFound, message: "Topic \(name) not found or not enabled for Change Data Capture.",
            metadata: ["error-code": "sfdc.platform.eventbus.grpc.topic.not.found"])
    }
}

/// The client's side of one Subscribe stream: its first request (topic and replay) and the events it asked for
/// and has not been sent yet.
final class Subscription: Sendable {
    private let state = Mutex<(first: Eventbus_V1_FetchRequest?, credit: Int)>((nil, 0))

    var credit: Int { state.withLock { $0.credit } }

    func spend(_ count: Int) { state.withLock { $0.credit -= count } }

    /// Reads the client's requests until it half-closes; a later request naming another topic is refused.
    func take(_ requests: RPCAsyncSequence<Eventbus_V1_FetchRequest, any Error>) async throws {
        for try await request in requests {
            try state.withLock { state throws(RPCError) in
                if let first = state.first, !request.topicName.isEmpty, request.topicName != first.topicName {
                    throw RPCError(code: .invalidArgument, message: "The topic of a subscription cannot change.")
                }
                if state.first == nil { state.first = request }
                state.credit += Int(max(0, request.numRequested))
            }
        }
    }

    func firstRequest() async throws -> Eventbus_V1_FetchRequest {
        while true {
            if let first = state.withLock({ $0.first }) { return first }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
