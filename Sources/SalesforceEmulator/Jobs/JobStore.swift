import Synchronization

/// Query jobs by Id, in creation order. Thread-safe.
final class JobStore: Sendable {
    private struct State: Sendable {
        var jobs: [String: QueryJob] = [:]
        var order: [String] = []
        var nextIndex = 1
    }

    private let state = Mutex(State())

    /// Reserves the next job Id (`750…`, 18 characters).
    func nextId() -> String {
        state.withLock { state in
            defer { state.nextIndex += 1 }
            return SalesforceId.make(prefix: "750", index: state.nextIndex)
        }
    }

    func add(_ job: QueryJob) {
        state.withLock { state in
            state.jobs[job.id] = job
            state.order.append(job.id)
        }
    }

    /// Applies `change` to a job and returns the result, or `nil` when there is no such job.
    @discardableResult
    func update<T>(_ id: String, _ change: (inout QueryJob) -> T) -> T? {
        state.withLock { state in
            guard var job = state.jobs[id] else { return nil }
            let result = change(&job)
            state.jobs[id] = job
            return result
        }
    }

    func remove(_ id: String) {
        state.withLock { state in
            state.jobs[id] = nil
            state.order.removeAll { $0 == id }
        }
    }

    func all() -> [QueryJob] {
        state.withLock { state in state.order.compactMap { state.jobs[$0] } }
    }

    func removeAll() {
        state.withLock { $0 = State() }
    }
}
