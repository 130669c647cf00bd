import Logging
import ServiceLifecycle

/// Work a route starts after it has answered (Slack wants an answer within three seconds; the click is
/// carried out after). Every such job runs as a child task of this service's `run()`, so none outlives
/// shutdown: on SIGTERM the service takes no new jobs and returns once the running ones are done.
final class DeferredWork: Service, Sendable {
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let submit: AsyncStream<@Sendable () async -> Void>.Continuation

    init() {
        (jobs, submit) = AsyncStream.makeStream()
    }

    /// Queues a job; after shutdown has begun it is dropped, and false says so.
    @discardableResult
    func run(_ job: @escaping @Sendable () async -> Void) -> Bool {
        if case .enqueued = submit.yield(job) { return true }
        return false
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await job in jobs {
                    group.addTask { await job() }
                }
            }
        } onGracefulShutdown: { [submit] in
            submit.finish()
        }
    }
}
