import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldStore

/// Delivery's bookkeeping, with no I/O and no clock of its own: which rows wait in which lane, which
/// attempts may start at a given instant, what an attempt's end frees, and when to look again.
///
/// The `Dispatcher` owns one, feeds it rows and instants, and runs the attempts it hands out; tests drive it
/// on instants they choose.
struct DeliverySchedule {
    let policy: Config.Delivery
    private(set) var lanes: [LaneKey: Lane] = [:]
    private var ready: [LaneKey] = []
    private var timers = TimerHeap<LaneKey>()
    private var waitingForSlot: [LaneKey] = []
    private var waitingForTarget: [TargetKey: [LaneKey]] = [:]
    /// Rate-limit scopes and when they open again.
    private var blockedUntil: [RateLimitScope: ContinuousClock.Instant] = [:]
    private(set) var inFlight = 0
    private var inFlightByTarget: [TargetKey: Int] = [:]
    /// The ids of the rows in memory, queued or in flight.
    private var heldIDs = Set<Int64>()
    /// The lane of each row whose posted message is not yet written.
    private var laneOfUnrecordedPost: [Int64: LaneKey] = [:]

    init(policy: Config.Delivery) {
        self.policy = policy
    }

    /// One attempt the schedule let start.
    struct Attempt: Sendable {
        var lane: LaneKey
        var delivery: PendingDelivery
        var scope: RateLimitScope
        /// The issue's first message in the channel, for a repeat firing that replies in its thread.
        var parent: MessageHandle?
    }

    /// Rows in memory.
    var held: Int { heldIDs.count }

    func isHeld(_ id: Int64) -> Bool { heldIDs.contains(id) }

    /// When a lane next needs a look, if any waits for a time.
    var nextTimer: ContinuousClock.Instant? { timers.earliest }

    /// Forgets lanes whose pacing has fully recovered: they hold nothing worth keeping.
    mutating func dropIdleLanes(now: ContinuousClock.Instant) {
        lanes = lanes.filter { !$0.value.isIdle(now: now) }
    }

    /// Queues a row at the back of its lane; false when the row is already in memory.
    @discardableResult
    mutating func enqueue(_ row: PendingDelivery, scope: RateLimitScope, notBefore: ContinuousClock.Instant,
                          now: ContinuousClock.Instant) -> Bool
    {
        guard heldIDs.insert(row.id).inserted else { return false }
        let key = LaneKey(kind: row.kind, target: row.target, channel: row.channel)
        // Mutated in place: a copy taken out of the dictionary would copy the lane's queue on every append.
        lanes[key, default: Lane(kind: row.kind, target: row.target, channel: row.channel, policy: policy, now: now)]
            .append(Queued(delivery: row, notBefore: notBefore, scope: scope))
        markReady(key)
        return true
    }

    /// Takes out of their lanes the attempts that may start at `now`, counting them in flight, and notes
    /// what each remaining lane waits for: a time (its next try, a rate-limit block, a pacing token) or a
    /// slot (the global or per-target cap).
    mutating func startable(now: ContinuousClock.Instant) -> [Attempt] {
        while let due = timers.popDue(now: now) { markReady(due) }
        var started: [Attempt] = []
        let keys = ready
        ready.removeAll(keepingCapacity: true)
        for key in keys {
            lanes[key]?.isReady = false
            start(key, now: now, into: &started)
        }
        return started
    }

    private mutating func start(_ key: LaneKey, now: ContinuousClock.Instant, into started: inout [Attempt]) {
        // Taken out while it is worked on, so popping its queue does not copy it.
        guard var lane = lanes.removeValue(forKey: key) else { return }
        defer { if !lane.isIdle(now: now) { lanes[key] = lane } }
        while lane.inFlight < lane.maxInFlight, let head = lane.head {
            if head.notBefore > now {
                timers.push(head.notBefore, key)
                return
            }
            if let until = blockedUntil[head.scope] {
                if until > now {
                    timers.push(until, key)
                    return
                }
                blockedUntil[head.scope] = nil
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
            let parent = policy.repeatFirings == .thread && delivery.purpose == .alert
                ? lane.parents[delivery.issue.id] ?? delivery.parent : nil
            started.append(Attempt(lane: key, delivery: delivery, scope: queued.scope, parent: parent))
        }
    }

    /// An attempt ended: its slot is free, its lane may go on, and lanes that waited for a slot are looked
    /// at again.
    mutating func attemptEnded(_ attempt: Attempt) {
        inFlight -= 1
        let target = TargetKey(kind: attempt.lane.kind, target: attempt.lane.target)
        inFlightByTarget[target, default: 1] -= 1
        if lanes[attempt.lane] != nil {
            lanes[attempt.lane]?.inFlight -= 1
            lanes[attempt.lane]?.isReady = false
            markReady(attempt.lane)
        }
        for waiting in waitingForSlot { markReady(waiting) }
        waitingForSlot.removeAll()
        for waiting in waitingForTarget.removeValue(forKey: target) ?? [] { markReady(waiting) }
    }

    /// A message was posted for row `row`: later firings of the issue in that channel reply in its thread.
    mutating func learnParent(_ handle: MessageHandle, lane: LaneKey, row: Int64) {
        lanes[lane]?.parents[handle.issueID] = handle
        lanes[lane]?.unrecordedPosts.insert(row)
        laneOfUnrecordedPost[row] = lane
    }

    /// A 429: nothing in `scope` starts before `until`.
    mutating func block(_ scope: RateLimitScope, until: ContinuousClock.Instant) {
        if let current = blockedUntil[scope], current > until { return }
        blockedUntil[scope] = until
    }

    /// Puts a failed attempt back at the front of its lane, to be tried at `notBefore`.
    mutating func retry(_ attempt: Attempt, attempts: Int, notBefore: ContinuousClock.Instant,
                        now: ContinuousClock.Instant)
    {
        var delivery = attempt.delivery
        delivery.attempts = attempts
        let key = attempt.lane
        lanes[key, default: Lane(kind: key.kind, target: key.target, channel: key.channel, policy: policy, now: now)]
            .pushFront(Queued(delivery: delivery, notBefore: notBefore, scope: attempt.scope))
    }

    /// Rows whose last attempt's result (delivered, parked, failed or given up) is now in the database: they
    /// leave memory.
    ///
    /// Not when the attempt ends: until its result is written, the database still shows such a row as due
    /// (`pending`, or `retrying` for a parked retry read back), and a read of the outbox under way at that
    /// moment would queue it again and send it twice.
    mutating func recorded(_ ids: some Sequence<Int64>) {
        for id in ids {
            heldIDs.remove(id)
            if let lane = laneOfUnrecordedPost.removeValue(forKey: id) { lanes[lane]?.unrecordedPosts.remove(id) }
        }
    }

    private mutating func markReady(_ key: LaneKey) {
        guard let lane = lanes[key], !lane.isReady else { return }
        lanes[key]?.isReady = true
        ready.append(key)
    }
}
