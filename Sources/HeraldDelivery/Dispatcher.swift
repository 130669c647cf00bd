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
    private let policy: Config.Delivery
    private let metrics: DeliveryMetrics
    private let logger: Logger
    private let doorbell = Doorbell()
    private let clock = ContinuousClock()

    private var lanes: [String: Lane] = [:]
    private var ready: [String] = []
    private var timers = TimerHeap()
    private var waitingForSlot: [String] = []
    private var waitingForTarget: [String: [String]] = [:]
    /// Rate-limit scopes (`slack:acme:chat.postMessage`) and when they open again.
    private var blockedUntil: [String: ContinuousClock.Instant] = [:]
    private var inFlight = 0
    private var inFlightByTarget: [String: Int] = [:]
    private var held = 0
    private var cursor: Int64 = 0
    private var lastLoad: ContinuousClock.Instant?
    private var moreToLoad = true
    private var completions: [DeliveryCompletion] = []
    private var lastFlush: ContinuousClock.Instant?
    private var flushFailedAt: ContinuousClock.Instant?
    /// The rows in memory, queued or in flight.
    private var heldIDs = Set<Int64>()

    public init(store: Store, courier: Courier, policy: Config.Delivery, metrics: DeliveryMetrics, logger: Logger) {
        self.store = store
        self.courier = courier
        self.policy = policy
        self.metrics = metrics
        self.logger = logger
    }

    /// Tells the dispatcher that new rows were committed, so it reads them now rather than at its next poll.
    public nonisolated func rowsAdded() {
        doorbell.requestLoad()
    }

    public func run() async throws {
        do {
            try await courier.channels.load(from: store)
        } catch {
            logger.error("cannot read known channel ids; they will be looked up again", metadata: ["error": "\(error)"])
        }
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: { [doorbell] in
            doorbell.stop()
        }
    }

    // MARK: The loop

    private func loop() async {
        var wakeups = doorbell.stream.makeAsyncIterator()
        while true {
            let stopping = doorbell.isStopping
            let now = clock.now
            let pollDue = lastLoad.map { now - $0 >= Self.pollInterval } ?? true
            let loadDue = !stopping && held < Self.maxHeld
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
                if inFlight == 0 {
                    await flush()
                    logger.info("delivery stopped", metadata: ["pending_in_memory": "\(held)"])
                    return
                }
            } else {
                startReadyLanes()
            }
            var deadline: ContinuousClock.Instant
            if stopping {
                // Only the attempts in progress matter now; each one's end rings.
                deadline = clock.now + .seconds(1)
            } else {
                let loaded = lastLoad ?? clock.now
                deadline = loaded + Self.pollInterval
                if let next = timers.earliest, next < deadline { deadline = next }
                if doorbell.loadRequested { deadline = min(deadline, loaded + Self.minimumLoadGap) }
                if !completions.isEmpty { deadline = min(deadline, (lastFlush ?? clock.now) + Self.flushInterval) }
                if moreToLoad && held < Self.maxHeld { deadline = clock.now }
                if flushFailedAt != nil { deadline = max(deadline, clock.now + .seconds(1)) }
            }
            if deadline <= clock.now {
                // Let attempts that ended record themselves before the next round.
                await Task.yield()
                continue
            }
            let sleeper = Task { [doorbell, clock] in
                try? await Task.sleep(until: deadline, clock: clock)
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
                rows += try await store.dueRetries(limit: Self.pageSize).filter { !heldIDs.contains($0.id) }
            }
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            moreToLoad = false
            return
        }
        let now = clock.now
        // Lanes whose pacing has fully recovered hold nothing worth keeping.
        lanes = lanes.filter { !$0.value.isIdle(now: now) }
        let wallNow = Date()
        for row in rows where heldIDs.insert(row.id).inserted {
            let wait = row.nextAttemptAt.timeIntervalSince(wallNow)
            let notBefore = wait > 0 ? now + .milliseconds(Int64(wait * 1_000)) : now
            let key = Lane.key(kind: row.kind, target: row.target, channel: row.channel)
            if lanes[key] == nil {
                lanes[key] = Lane(kind: row.kind, target: row.target, policy: policy, now: now)
            }
            lanes[key]!.append(Queued(delivery: row, notBefore: notBefore))
            markReady(key)
            held += 1
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
        } catch {
            logger.error("cannot record delivery results; retrying", metadata: ["error": "\(error)", "rows": "\(batch.count)"])
            completions = batch + completions
            flushFailedAt = clock.now
        }
    }

    private func markReady(_ key: String) {
        guard var lane = lanes[key], !lane.isReady else { return }
        lane.isReady = true
        lanes[key] = lane
        ready.append(key)
    }

    private func startReadyLanes() {
        let now = clock.now
        while let due = timers.popDue(now: now) { markReady(due) }
        var index = 0
        while index < ready.count {
            let key = ready[index]
            index += 1
            lanes[key]?.isReady = false
            start(key, now: now)
        }
        ready.removeAll(keepingCapacity: true)
    }

    /// Starts as many of the lane's queued attempts as its limits allow, and notes what it waits for.
    private func start(_ key: String, now: ContinuousClock.Instant) {
        guard var lane = lanes[key] else { return }
        defer {
            if lane.isIdle(now: now) {
                lanes[key] = nil
            } else {
                lanes[key] = lane
            }
        }
        while lane.inFlight < lane.maxInFlight, let head = lane.head {
            if head.notBefore > now {
                timers.push(head.notBefore, key)
                return
            }
            let scope = Courier.scope(kind: lane.kind, target: lane.target, purpose: head.delivery.purpose)
            if let until = blockedUntil[scope] {
                if until > now {
                    timers.push(until, key)
                    return
                }
                blockedUntil[scope] = nil
            }
            if let ready = lane.tokenReadyAt(now: now) {
                timers.push(ready, key)
                return
            }
            if inFlight >= policy.maxInFlight {
                waitingForSlot.append(key)
                return
            }
            if inFlightByTarget[lane.target, default: 0] >= policy.maxInFlightPerTarget {
                waitingForTarget[lane.target, default: []].append(key)
                return
            }
            let queued = lane.popHead()
            lane.takeToken(now: now)
            lane.inFlight += 1
            inFlight += 1
            inFlightByTarget[lane.target, default: 0] += 1
            let delivery = queued.delivery
            let parent = policy.repeatFirings == .thread && delivery.purpose == "alert"
                ? lane.parents[delivery.issue.id] ?? delivery.parent : nil
            let courier = courier
            Task {
                let started = ContinuousClock.now
                let result = await courier.deliver(delivery, parent: parent)
                self.finished(key, delivery, result, took: ContinuousClock.now - started)
            }
        }
    }

    /// Records an attempt's end, requeues what will be retried and wakes lanes that waited for a slot.
    private func finished(_ key: String, _ delivery: PendingDelivery, _ result: Courier.Result, took: Duration) {
        inFlight -= 1
        inFlightByTarget[delivery.target, default: 1] -= 1
        metrics.recordAttempt(kind: delivery.kind, took: took)
        let attempts = delivery.attempts + 1
        var lane = lanes[key]
        lane?.inFlight -= 1
        let metadata: Logger.Metadata = [
            "delivery": "\(delivery.id)", "kind": "\(delivery.kind)", "target": "\(delivery.target)",
            "channel": "\(delivery.channel ?? "-")", "issue": "\(delivery.issue.shortID)", "attempts": "\(attempts)",
        ]
        switch result {
        case .delivered(let handle, let resolved, let note):
            if let handle, handle.threadRef == nil, delivery.purpose == "alert" { lane?.parents[delivery.issue.id] = handle }
            completions.append(DeliveryCompletion(
                id: delivery.id, attempts: attempts, outcome: .delivered(handle), resolvedChannel: resolved))
            metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: "delivered")
            release(delivery.id)
            if let note { logger.warning("delivered, but \(note)", metadata: metadata) }
        case .failed(let failure, let scope):
            let now = clock.now
            var retryIn: Double?
            switch failure {
            case .rateLimited(let seconds):
                let until = now + .milliseconds(Int64(seconds * 1_000))
                if let current = blockedUntil[scope], current > until {} else { blockedUntil[scope] = until }
                retryIn = seconds
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: "rate_limited")
            case .transient:
                retryIn = backoff(attempts: attempts)
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: "retried")
            case .permanent:
                retryIn = nil
            }
            let age = Date().timeIntervalSince(delivery.createdAt)
            if let wait = retryIn, age + wait <= policy.giveUpAfter, wait > policy.memoryRetrySeconds {
                completions.append(DeliveryCompletion(
                    id: delivery.id, attempts: attempts,
                    outcome: .park(until: Date().addingTimeInterval(wait), reason: failure.description)))
                release(delivery.id)
                logger.notice("delivery will be retried", metadata: metadata.merging(
                    ["error": "\(failure)", "retry_in": "\(Int(wait)) s"]) { $1 })
            } else if let wait = retryIn, age + wait <= policy.giveUpAfter {
                var again = delivery
                again.attempts = attempts
                lane?.pushFront(Queued(delivery: again, notBefore: now + .milliseconds(Int64(wait * 1_000))))
                completions.append(DeliveryCompletion(
                    id: delivery.id, attempts: attempts,
                    outcome: .retry(at: Date().addingTimeInterval(wait), reason: failure.description)))
                logger.notice("delivery will be retried", metadata: metadata.merging(
                    ["error": "\(failure)", "retry_in": "\(wait.formatted(.number.precision(.fractionLength(0...3)))) s"]
                ) { $1 })
            } else if retryIn != nil {
                let reason = "gave up after \(attempts) attempts over \(Int(age)) s; last error: \(failure)"
                completions.append(DeliveryCompletion(id: delivery.id, attempts: attempts, outcome: .dead(reason: reason)))
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: "dead")
                release(delivery.id)
                logger.error("delivery given up", metadata: metadata.merging(["error": "\(failure)"]) { $1 })
            } else {
                completions.append(DeliveryCompletion(
                    id: delivery.id, attempts: attempts, outcome: .failed(reason: failure.description)))
                metrics.recordOutcome(kind: delivery.kind, target: delivery.target, outcome: "failed")
                release(delivery.id)
                logger.error("delivery failed", metadata: metadata.merging(["error": "\(failure)"]) { $1 })
            }
        }
        if var lane {
            lane.isReady = false
            lanes[key] = lane
            markReady(key)
        }
        for waiting in waitingForSlot { markReady(waiting) }
        waitingForSlot.removeAll()
        for waiting in waitingForTarget.removeValue(forKey: delivery.target) ?? [] { markReady(waiting) }
        doorbell.ring()
    }

    /// Forgets a row that left memory.
    private func release(_ id: Int64) {
        held -= 1
        heldIDs.remove(id)
    }

    /// Exponential backoff with jitter: the n-th retry waits between half and all of
    /// `retryDelay × 2^(n-1)`, capped at `maxRetryDelay`, so retries from many rows spread out.
    private func backoff(attempts: Int) -> Double {
        let exponent = Double(min(attempts - 1, 30))
        let ceiling = min(policy.maxRetryDelay, policy.retryDelay * pow(2, exponent))
        return Double.random(in: (ceiling / 2)...ceiling)
    }
}

/// A delivery waiting in a lane, and the earliest time it may be tried.
struct Queued: Sendable {
    var delivery: PendingDelivery
    var notBefore: ContinuousClock.Instant
}

/// The deliveries of one chat channel (or one webhook), in order, with the channel's pacing.
struct Lane {
    let kind: String
    let target: String
    let maxInFlight: Int
    /// Token bucket: `burst` messages at once, then one per `interval`. Webhooks are not paced.
    private let burst: Double
    private let interval: Double
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant
    private var queue: [Queued] = []
    private var headIndex = 0
    var inFlight = 0
    var isReady = false
    /// The issue's first message in this channel, as learned from posts made since start.
    var parents: [Int64: MessageHandle] = [:]

    static func key(kind: String, target: String, channel: String?) -> String {
        kind == "webhook" ? "webhook\u{1F}\(target)" : "\(kind)\u{1F}\(target)\u{1F}\(channel ?? "")"
    }

    init(kind: String, target: String, policy: Config.Delivery, now: ContinuousClock.Instant) {
        self.kind = kind
        self.target = target
        let paced = kind != "webhook" && policy.channelInterval > 0
        // A chat channel takes one message at a time, so a repeat firing finds the first message's handle
        // and replies stay in order.
        maxInFlight = kind == "webhook" ? policy.maxInFlightPerTarget : 1
        burst = paced ? Double(policy.channelBurst) : .infinity
        interval = policy.channelInterval
        tokens = burst
        refilledAt = now
    }

    var isEmpty: Bool { headIndex == queue.count }

    /// Nothing queued or in flight, and the channel's burst fully back: dropping the lane loses nothing.
    func isIdle(now: ContinuousClock.Instant) -> Bool {
        guard isEmpty && inFlight == 0 else { return false }
        guard burst.isFinite else { return true }
        return tokens + (now - refilledAt).seconds / interval >= burst
    }
    var head: Queued? { isEmpty ? nil : queue[headIndex] }

    mutating func append(_ item: Queued) { queue.append(item) }

    mutating func pushFront(_ item: Queued) {
        if headIndex > 0 {
            headIndex -= 1
            queue[headIndex] = item
        } else {
            queue.insert(item, at: 0)
        }
    }

    mutating func popHead() -> Queued {
        let item = queue[headIndex]
        headIndex += 1
        if headIndex == queue.count {
            queue.removeAll(keepingCapacity: true)
            headIndex = 0
        } else if headIndex >= 64 && headIndex * 2 >= queue.count {
            queue.removeFirst(headIndex)
            headIndex = 0
        }
        return item
    }

    /// nil when a message may go now; else when the next token arrives.
    mutating func tokenReadyAt(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard burst.isFinite else { return nil }
        refill(now: now)
        if tokens >= 1 { return nil }
        return now + .milliseconds(Int64(((1 - tokens) * interval * 1_000).rounded(.up)))
    }

    mutating func takeToken(now: ContinuousClock.Instant) {
        guard burst.isFinite else { return }
        refill(now: now)
        tokens -= 1
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        tokens = min(burst, tokens + (now - refilledAt).seconds / interval)
        refilledAt = now
    }
}

/// Lane keys by the time they should be looked at again; a min-heap.
struct TimerHeap {
    private var items: [(at: ContinuousClock.Instant, key: String)] = []

    var earliest: ContinuousClock.Instant? { items.first?.at }

    mutating func push(_ at: ContinuousClock.Instant, _ key: String) {
        items.append((at, key))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].at < items[parent].at else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popDue(now: ContinuousClock.Instant) -> String? {
        guard let first = items.first, first.at <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].at < items[smallest].at { smallest = left }
                if right < items.count && items[right].at < items[smallest].at { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.key
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
