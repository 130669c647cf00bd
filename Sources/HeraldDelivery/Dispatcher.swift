// HeraldDelivery drains the outbox. The `Dispatcher` reads pending rows in id order and queues each in a lane
// (one per chat channel, one per webhook); lanes start attempts through the `Courier` when their channel's
// pacing, their target's rate limits and the in-flight caps allow, so a slow or failing channel, workspace or
// webhook holds up only itself. How each attempt ended is written back in batches: a sent message's handle
// in the same transaction that marks its row delivered.

import Foundation
import HeraldChat
import HeraldConfig
import HeraldStore
import Logging
import ServiceLifecycle

/// Sends what the outbox holds: at least once, paced per channel, retried with backoff, given up after the
/// configured age, and never letting one target delay another.
public actor Dispatcher: Service {
    /// How many rows are read per query, and how many may wait in memory at once.
    public static let pageSize = 1_000
    public static let maxHeld = 20_000
    /// How often the outbox is checked for rows nobody announced (another process, a missed wake-up) and
    /// for parked retries that are due.
    public static let pollInterval: Duration = .milliseconds(500)
    /// Announced rows are read at most this often, so a busy ingest writer does not cause a read per commit.
    static let minimumLoadGap: Duration = .milliseconds(50)
    /// Results are written when this many wait, or this long after the last write: each write is a
    /// transaction with an fsync that the ingest writer would otherwise wait behind.
    static let flushBatch = 500
    static let flushInterval: Duration = .milliseconds(100)

    private let store: Store
    private let courier: Courier
    private let retryPolicy: RetryPolicy
    private let metrics: DeliveryMetrics
    private let logger: Logger
    private let doorbell = Doorbell()
    private let clock = ContinuousClock()

    private var schedule: DeliverySchedule
    /// The attempts in progress, by a serial number.
    private var attempts: [UInt64: Task<Void, Never>] = [:]
    private var nextAttempt: UInt64 = 0
    private var cursor: Int64 = 0
    private var lastLoad: ContinuousClock.Instant?
    private var moreToLoad = true
    private var completions: [DeliveryCompletion] = []
    private var lastFlush: ContinuousClock.Instant?
    private var flushFailedAt: ContinuousClock.Instant?
    /// Retry notices of the same target and error, at most one a minute.
    private var notices = NoticeLimiter()
    /// Rounds of the loop so far: an idle dispatcher wakes a few times a second, never in a spin.
    public private(set) var rounds = 0

    public init(store: Store, courier: Courier, policy: Config.Delivery, metrics: DeliveryMetrics, logger: Logger) {
        self.store = store
        self.courier = courier
        self.retryPolicy = RetryPolicy(policy)
        self.metrics = metrics
        self.logger = logger
        self.schedule = DeliverySchedule(policy: policy)
    }

    /// Tells the dispatcher that new rows were committed, so it reads them now rather than at its next poll.
    public nonisolated func rowsAdded() {
        doorbell.requestLoad()
    }

    /// Runs until shutdown. Every attempt is owned by this call and none outlives it: on shutdown the loop
    /// starts nothing new, and this returns once the attempts in progress have been recorded; if the call is
    /// cancelled, so are they.
    public func run() async throws {
        do {
            try await courier.loadChannels(from: store)
        } catch is CancellationError {
            return
        } catch {
            logger.error("cannot read known channel ids; they will be looked up again", metadata: ["error": "\(error)"])
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await loop()
            } onGracefulShutdown: { [doorbell] in
                doorbell.stop()
            }
            for attempt in attempts.values { await attempt.value }
        } onCancel: { [doorbell] in
            doorbell.stop()
            Task { await self.cancelAttempts() }
        }
    }

    private func cancelAttempts() {
        for attempt in attempts.values { attempt.cancel() }
    }

    // MARK: The loop

    private func loop() async {
        var wakeups = doorbell.stream.makeAsyncIterator()
        while true {
            rounds &+= 1
            let stopping = doorbell.isStopping
            let now = clock.now
            let pollDue = lastLoad.map { now - $0 >= Self.pollInterval } ?? true
            let loadDue = !stopping && schedule.held < Self.maxHeld
                && (moreToLoad || pollDue
                    || (doorbell.loadRequested && lastLoad.map { now - $0 >= Self.minimumLoadGap } ?? true))
            // Results are written in batches, and always before a read: a row read next must see the handles
            // of the messages already sent for its issue.
            if loadDue || stopping || completions.count >= Self.flushBatch
                || lastFlush.map({ now - $0 >= Self.flushInterval }) ?? true
            {
                await flush()
            }
            if loadDue {
                _ = doorbell.takeLoadRequest()
                await load(retries: pollDue)
            }
            if stopping {
                if schedule.inFlight == 0 {
                    await flush()
                    logger.info("delivery stopped", metadata: ["pending_in_memory": "\(schedule.held)"])
                    return
                }
            } else {
                for attempt in schedule.startable(now: clock.now) { start(attempt) }
            }
            var deadline: ContinuousClock.Instant
            if stopping {
                // Only the attempts in progress matter now; each one's end rings.
                deadline = clock.now + .seconds(1)
            } else {
                let loaded = lastLoad ?? clock.now
                deadline = loaded + Self.pollInterval
                if let next = schedule.nextTimer, next < deadline { deadline = next }
                if doorbell.loadRequested { deadline = min(deadline, loaded + Self.minimumLoadGap) }
                if !completions.isEmpty { deadline = min(deadline, (lastFlush ?? clock.now) + Self.flushInterval) }
                if moreToLoad && schedule.held < Self.maxHeld { deadline = clock.now }
                if flushFailedAt != nil { deadline = max(deadline, clock.now + .seconds(1)) }
            }
            if deadline <= clock.now {
                // Let attempts that ended record themselves before the next round.
                await Task.yield()
                continue
            }
            // A sleeper cancelled because something else woke the loop must not ring: its ring would wake
            // the next round at once, which cancels that round's sleeper, which rings, and the loop spins
            // on a full core for as long as the server runs.
            let sleeper = Task { [doorbell, clock] in
                do { try await Task.sleep(until: deadline, clock: clock) } catch { return }
                doorbell.ring()
            }
            _ = await wakeups.next()
            sleeper.cancel()
        }
    }

    /// Reads the next page of new rows, and with `retries` the parked rows now due, into their lanes.
    private func load(retries: Bool) async {
        lastLoad = clock.now
        var rows: [PendingDelivery]
        do {
            let page = try await store.pendingDeliveries(after: cursor, limit: Self.pageSize)
            rows = page.deliveries
            moreToLoad = page.isFull
            if let last = page.lastID { cursor = max(cursor, last) }
            if retries {
                rows += try await store.dueRetries(limit: Self.pageSize).filter { !schedule.isHeld($0.id) }
            }
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            moreToLoad = false
            return
        }
        let now = clock.now
        schedule.dropIdleLanes(now: now)
        let wallNow = Date()
        for row in rows {
            let wait = row.nextAttemptAt.timeIntervalSince(wallNow)
            schedule.enqueue(row, scope: courier.scope(of: row), notBefore: now + .clampedSeconds(wait), now: now)
        }
    }

    /// Writes how attempts ended, in one transaction.
    private func flush() async {
        guard !completions.isEmpty else { return }
        if let failedAt = flushFailedAt, clock.now - failedAt < .seconds(1), !doorbell.isStopping { return }
        let batch = completions
        completions = []
        lastFlush = clock.now
        do {
            try await store.complete(batch)
            flushFailedAt = nil
            // Only now may a read of the outbox return these rows again without them being sent twice.
            schedule.recorded(batch.filter(\.leavesMemory).map(\.id))
        } catch {
            logger.error("cannot record delivery results; retrying", metadata: ["error": "\(error)", "rows": "\(batch.count)"])
            completions = batch + completions
            flushFailedAt = clock.now
        }
    }

    /// Starts one attempt as a task on this actor, kept in `attempts` until it has been recorded.
    ///
    /// Not a child of a task group: a child starts at once on the shared pool, and a burst of a thousand then
    /// ran ahead of this loop, which cost delivery a fifth of its throughput and delayed first messages
    /// enough to break pacing at the receiver (same-hour A/B in Benchmarks/README.md). A task on the actor
    /// starts in turn with the loop; `run()` still owns it, cancels it and waits for it.
    private func start(_ attempt: DeliverySchedule.Attempt) {
        let serial = nextAttempt
        nextAttempt &+= 1
        let courier = courier
        // The task cannot begin before this assignment: it runs on this actor, which is busy until the loop
        // next suspends.
        attempts[serial] = Task {
            let started = ContinuousClock.now
            let result = await courier.deliver(attempt.delivery, parent: attempt.parent)
            finished(attempt, result, took: ContinuousClock.now - started)
            attempts[serial] = nil
        }
    }

    /// Records an attempt's end, requeues what will be retried and lets the schedule wake what waited.
    private func finished(_ attempt: DeliverySchedule.Attempt, _ result: Courier.Result, took: Duration) {
        let delivery = attempt.delivery
        metrics.recordAttempt(kind: delivery.kind, took: took)
        let attempts = delivery.attempts + 1
        let metadata: Logger.Metadata = [
            "delivery": "\(delivery.id)", "kind": "\(delivery.kind.rawValue)", "target": "\(delivery.target)",
            "channel": "\(delivery.channel ?? "-")", "issue": "\(delivery.issue.shortID)", "attempts": "\(attempts)",
        ]
        func complete(_ outcome: DeliveryCompletion.Outcome, resolved: ResolvedChannel? = nil) {
            completions.append(DeliveryCompletion(id: delivery.id, attempts: attempts, outcome: outcome, resolvedChannel: resolved))
        }
        switch result {
        case .delivered(let handle, let resolved, let note):
            if let handle, handle.threadRef == nil, delivery.purpose == .alert {
                schedule.learnParent(handle, lane: attempt.lane, row: delivery.id)
            }
            complete(.delivered(handle), resolved: resolved)
            metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: .delivered)
            if let note { logger.warning("delivered, but \(note)", metadata: metadata) }
        case .failed(let failure, let scope):
            let now = clock.now
            if case .rateLimited(let seconds) = failure {
                schedule.block(scope, until: now + .clampedSeconds(seconds))
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: .rateLimited)
            } else if case .transient = failure {
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: .retried)
            }
            let age = Date().timeIntervalSince(delivery.createdAt)
            switch retryPolicy.decide(failure, attempts: attempts, age: age, jitter: Double.random(in: 0...1)) {
            case .park(let wait):
                complete(.park(until: Date().addingTimeInterval(wait), reason: failure.description))
                noteRetry(delivery, failure: failure, wait: "\(Int(wait)) s", metadata: metadata, now: now)
            case .retryInMemory(let wait):
                schedule.retry(attempt, attempts: attempts, notBefore: now + .clampedSeconds(wait), now: now)
                complete(.retry(at: Date().addingTimeInterval(wait), reason: failure.description))
                noteRetry(
                    delivery, failure: failure, wait: "\(wait.formatted(.number.precision(.fractionLength(0...3)))) s",
                    metadata: metadata, now: now)
            case .dead(let reason):
                complete(.dead(reason: reason))
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: .dead)
                    logger.error("delivery given up", metadata: metadata.merging(["error": "\(failure)"]) { $1 })
            case .failed(let reason):
                complete(.failed(reason: reason))
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: .failed)
                    logger.error("delivery failed", metadata: metadata.merging(["error": "\(failure)"]) { $1 })
            }
        }
        schedule.attemptEnded(attempt)
        doorbell.ring()
    }

    /// "delivery will be retried", once a minute per target and error, with how many were held back.
    private func noteRetry(
        _ delivery: PendingDelivery, failure: ChatFailure, wait: String, metadata: Logger.Metadata,
        now: ContinuousClock.Instant
    ) {
        let (write, held) = notices.admit("\(delivery.kind.rawValue) \(delivery.target) \(failure)", now: now)
        guard write else { return }
        var fields = metadata.merging(["error": "\(failure)", "retry_in": "\(wait)"]) { $1 }
        if held > 0 { fields["repeated"] = "\(held) more like it in the last minute" }
        logger.notice("delivery will be retried", metadata: fields)
    }
}
