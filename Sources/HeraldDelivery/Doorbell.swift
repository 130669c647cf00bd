import Synchronization

/// Wakes the dispatcher's loop: when rows are added, an attempt ends, a timer fires or shutdown begins.
/// Rings coalesce; the loop looks at everything on each wake.
final class Doorbell: Sendable {
    let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let state = Mutex(State())

    private struct State {
        var loadRequested = true
        var stopping = false
    }

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func ring() {
        continuation.yield()
    }

    func requestLoad() {
        state.withLock { $0.loadRequested = true }
        ring()
    }

    /// Whether rows were announced since the last `takeLoadRequest`.
    var loadRequested: Bool { state.withLock { $0.loadRequested } }

    /// Whether rows were announced since the last call.
    func takeLoadRequest() -> Bool {
        state.withLock { state in
            defer { state.loadRequested = false }
            return state.loadRequested
        }
    }

    func stop() {
        state.withLock { $0.stopping = true }
        ring()
    }

    var isStopping: Bool { state.withLock { $0.stopping } }
}
