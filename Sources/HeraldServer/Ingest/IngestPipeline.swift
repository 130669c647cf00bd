import Foundation
import HeraldCore
import HeraldStore
import Logging
import ServiceLifecycle
import Synchronization

/// Hands accepted events to the one writer, which commits them in batches.
///
/// Request handlers `submit` their events and wait; the writer takes everything waiting, writes it in one
/// transaction (one fsync for the whole batch) and answers each handler. Under load batches grow by
/// themselves, so throughput rises with load while an idle server commits each event at once.
///
/// Admission (`admit`) bounds how many ingest requests are in progress, from reading the body to the
/// answer: past `capacity` a request gets 429 before its body is read, which bounds memory.
public final class IngestPipeline: Service, Sendable {
    private struct Waiting {
        var events: [IncomingEvent]
        var continuation: CheckedContinuation<[IngestOutcome], any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writerWakeup: CheckedContinuation<Void, Never>?
        var closed = false
        var admitted = 0
    }

    public enum Failure: Error {
        /// The server is shutting down and commits nothing more.
        case closed
    }

    let store: Store
    let rules: RuleBook
    let metrics: HeraldMetrics
    let logger: Logger
    public let capacity: Int
    /// At most this many events go into one transaction.
    let maxBatch: Int
    /// Called after a commit that queued deliveries, so delivery starts on them at once.
    let deliveriesQueued: @Sendable () -> Void
    /// Each project's allowance of new issues.
    let newIssues: TokenBuckets<Int>?
    /// Project slugs by id, for metric labels.
    let projectSlugs: [Int: String]
    private let state = Mutex(State())

    public init(
        store: Store, rules: RuleBook, metrics: HeraldMetrics, logger: Logger, capacity: Int, maxBatch: Int = 1_000,
        newIssues: TokenBuckets<Int>? = nil, projectSlugs: [Int: String] = [:],
        deliveriesQueued: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.rules = rules
        self.metrics = metrics
        self.logger = logger
        self.capacity = capacity
        self.maxBatch = maxBatch
        self.newIssues = newIssues
        self.projectSlugs = projectSlugs
        self.deliveriesQueued = deliveriesQueued
    }

    // MARK: Admission

    /// Ingest requests in progress now.
    var inProgress: Int { state.withLock { $0.admitted } }

    /// Takes a place for one ingest request, or returns false when `capacity` requests are in progress.
    func admit() -> Bool {
        let admitted = state.withLock { state -> Int? in
            guard state.admitted < capacity else { return nil }
            state.admitted += 1
            return state.admitted
        }
        if let admitted { metrics.ingestInFlight.record(admitted) }
        return admitted != nil
    }

    func release() {
        let admitted = state.withLock { state in
            state.admitted -= 1
            return state.admitted
        }
        metrics.ingestInFlight.record(admitted)
    }

    // MARK: Writing

    /// Waits until the events are committed (or failed) and returns what happened to each, in order.
    public func submit(_ events: [IncomingEvent]) async throws -> [IngestOutcome] {
        guard !events.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let wakeup = state.withLock { state -> CheckedContinuation<Void, Never>?? in
                guard !state.closed else { return .none }
                state.waiting.append(Waiting(events: events, continuation: continuation))
                defer { state.writerWakeup = nil }
                return .some(state.writerWakeup)
            }
            switch wakeup {
            case .none: continuation.resume(throwing: Failure.closed)
            case .some(let writer): writer?.resume()
            }
        }
    }

    /// The writer: runs until graceful shutdown, then commits what is still waiting and stops.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while let batch = await nextBatch() {
                    await write(batch)
                }
            } onGracefulShutdown: {
                self.close()
            }
        } onCancel: {
            self.close()
        }
    }

    private func close() {
        let writer = state.withLock { state in
            state.closed = true
            defer { state.writerWakeup = nil }
            return state.writerWakeup
        }
        writer?.resume()
    }

    /// Everything waiting (up to `maxBatch` events), or nil once closed and drained.
    private func nextBatch() async -> [Waiting]? {
        while true {
            enum Next { case batch([Waiting]), finished, wait }
            let next = state.withLock { state -> Next in
                if !state.waiting.isEmpty {
                    var count = 0
                    var end = 0
                    while end < state.waiting.count, end == 0 || count + state.waiting[end].events.count <= maxBatch {
                        count += state.waiting[end].events.count
                        end += 1
                    }
                    let batch = Array(state.waiting[..<end])
                    state.waiting.removeFirst(end)
                    return .batch(batch)
                }
                return state.closed ? .finished : .wait
            }
            switch next {
            case .batch(let batch): return batch
            case .finished: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state in
                        guard state.waiting.isEmpty, !state.closed else { return true }
                        state.writerWakeup = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func write(_ batch: [Waiting]) async {
        let events = batch.flatMap(\.events)
        let loaded = rules.current
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let outcomes = try await store.ingest(events, engine: loaded.engine, newIssues: newIssues)
            metrics.batchCommitLatency.recordInterval(clock.now - started)
            record(outcomes)
            var offset = 0
            for waiting in batch {
                let count = waiting.events.count
                waiting.continuation.resume(returning: Array(outcomes[offset..<offset + count]))
                offset += count
            }
        } catch {
            logger.error("ingest batch failed; nothing of it was stored", metadata: [
                "events": "\(events.count)", "error": "\(error)",
            ])
            for waiting in batch { waiting.continuation.resume(throwing: error) }
        }
    }

    private func record(_ outcomes: [IngestOutcome]) {
        var queued = 0
        defer { if queued > 0 { deliveriesQueued() } }
        for outcome in outcomes {
            switch outcome {
            case .stored(let result):
                metrics.eventsAcceptedTotal.increment()
                if result.isNewIssue { metrics.issuesCreatedTotal.increment() }
                if result.state != nil {
                    metrics.ruleEvaluationsTotal.increment()
                    metrics.evaluationLatency.recordInterval(result.evaluationTime)
                }
                if result.matchedRules > 0 { metrics.ruleMatchesTotal.increment(by: result.matchedRules) }
                if !result.firedRules.isEmpty { metrics.ruleFiringsTotal.increment(by: result.firedRules.count) }
                if result.deliveries > 0 { metrics.deliveriesQueuedTotal.increment(by: result.deliveries) }
                queued += result.deliveries
            case .duplicate:
                metrics.eventsAcceptedTotal.increment()
            case .rateLimited(_, let project, _):
                metrics.newIssuesLimited(project: projectSlugs[project] ?? String(project)).increment()
            case .failed(let eventID, let reason):
                metrics.eventsRejected(reason: "failed").increment()
                logger.error("event not stored", metadata: ["event_id": "\(eventID)", "error": "\(reason)"])
            }
        }
    }
}
