import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldStore
@testable import HeraldDelivery
import Testing

/// The dispatcher's bookkeeping on instants the test chooses: which attempts may start, what they wait for,
/// and what an attempt's end frees. No clock, no I/O.
@Suite struct DeliveryScheduleTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1_000)) }

    func scope(_ delivery: PendingDelivery) -> RateLimitScope {
        RateLimitScope(kind: delivery.kind, target: delivery.target, method: "post")
    }

    func enqueue(_ schedule: inout DeliverySchedule, _ rows: [PendingDelivery], notBefore: Double = 0) {
        for row in rows { schedule.enqueue(row, scope: scope(row), notBefore: at(notBefore), now: at(0)) }
    }

    @Test func aChannelTakesOneAtATimeAndIsPacedAfterItsBurst() {
        var schedule = DeliverySchedule(policy: Config.Delivery(channelBurst: 2, channelInterval: 1))
        enqueue(&schedule, (1...4).map { pendingDelivery(id: $0) })
        // One at a time, in order.
        var first = schedule.startable(now: at(0))
        #expect(first.map(\.delivery.id) == [1])
        #expect(schedule.startable(now: at(0)).isEmpty)
        schedule.recorded([1])
        schedule.attemptEnded(first[0])
        first = schedule.startable(now: at(0))
        #expect(first.map(\.delivery.id) == [2])
        schedule.recorded([2])
        schedule.attemptEnded(first[0])
        // The burst of two is spent: the third waits for the next token, a second later.
        #expect(schedule.startable(now: at(0)).isEmpty)
        #expect(schedule.nextTimer == at(1))
        #expect(schedule.startable(now: at(0.999)).isEmpty)
        #expect(schedule.startable(now: at(1)).map(\.delivery.id) == [3])
        #expect(schedule.held == 2)
    }

    @Test func channelsAreIndependentButTheGlobalCapHoldsThemAll() {
        var schedule = DeliverySchedule(policy: Config.Delivery(maxInFlight: 2))
        enqueue(&schedule, [
            pendingDelivery(id: 1, channel: "#a"), pendingDelivery(id: 2, channel: "#b"), pendingDelivery(id: 3, channel: "#c"),
        ])
        let started = schedule.startable(now: at(0))
        #expect(started.map(\.delivery.id) == [1, 2])
        #expect(schedule.inFlight == 2)
        // The third waits for a slot, not a time; the end of any attempt wakes it.
        #expect(schedule.nextTimer == nil)
        schedule.attemptEnded(started[1])
        #expect(schedule.startable(now: at(0)).map(\.delivery.id) == [3])
    }

    @Test func oneTargetCannotTakeEverySlot() {
        var schedule = DeliverySchedule(policy: Config.Delivery(maxInFlight: 10, maxInFlightPerTarget: 2))
        enqueue(&schedule, (1...3).map { pendingDelivery(id: $0, channel: "#c\($0)") }
            + [pendingDelivery(id: 4, target: "globex", channel: "#c1")])
        let started = schedule.startable(now: at(0))
        #expect(Set(started.map(\.delivery.id)) == [1, 2, 4])
        schedule.attemptEnded(started.first { $0.delivery.id == 4 }!)
        #expect(schedule.startable(now: at(0)).isEmpty)
        schedule.attemptEnded(started.first { $0.delivery.id == 1 }!)
        #expect(schedule.startable(now: at(0)).map(\.delivery.id) == [3])
    }

    @Test func aRateLimitBlocksItsScopeUntilItOpens() {
        var schedule = DeliverySchedule(policy: Config.Delivery(channelBurst: 10))
        enqueue(&schedule, [pendingDelivery(id: 1), pendingDelivery(id: 2, channel: "#other")])
        let started = schedule.startable(now: at(0))
        #expect(started.count == 2)
        // The first gets a 429 for 3 s: it goes back to the front of its lane, and its scope is blocked.
        schedule.block(started[0].scope, until: at(3))
        schedule.retry(started[0], attempts: 1, notBefore: at(3), now: at(0))
        schedule.attemptEnded(started[0])
        schedule.recorded([2])
        schedule.attemptEnded(started[1])
        enqueue(&schedule, [pendingDelivery(id: 3, channel: "#other")])
        #expect(schedule.startable(now: at(1)).isEmpty)
        #expect(schedule.nextTimer == at(3))
        let again = schedule.startable(now: at(3))
        #expect(Set(again.map(\.delivery.id)) == [1, 3])
        #expect(again.first { $0.delivery.id == 1 }?.delivery.attempts == 1)
    }

    @Test func aRepeatFiringRepliesUnderTheFirstMessagePostedSinceStart() {
        var schedule = DeliverySchedule(policy: Config.Delivery(channelBurst: 10))
        enqueue(&schedule, [pendingDelivery(id: 1), pendingDelivery(id: 2)])
        let first = schedule.startable(now: at(0))
        #expect(first.first?.parent == nil)
        let handle = MessageHandle(
            issueID: 1, kind: .slack, target: "acme", channel: "#payments", channelID: "C1", ref: "1.0001")
        schedule.learnParent(handle, lane: first[0].lane, row: 1)
        schedule.recorded([1])
        schedule.attemptEnded(first[0])
        #expect(schedule.startable(now: at(0)).first?.parent == handle)
    }

    /// The race that once posted a parked retry twice: its attempt ended while a read of the outbox was under
    /// way, and the read, which still saw the row as due, queued it again. The row stays held from the end of
    /// its attempt until its result is written.
    @Test func aRowWhoseResultIsNotYetWrittenCannotBeQueuedAgain() {
        var schedule = DeliverySchedule(policy: Config.Delivery())
        let row = pendingDelivery(id: 9)
        enqueue(&schedule, [row])
        let attempt = schedule.startable(now: at(0))
        #expect(attempt.map(\.delivery.id) == [9])
        // The message is posted; the attempt ends before its result reaches the database.
        schedule.attemptEnded(attempt[0])
        // A read of due retries that started before the result was written returns the row once more.
        let readAgain = schedule.enqueue(row, scope: scope(row), notBefore: at(0), now: at(0))
        #expect(!readAgain)
        #expect(schedule.startable(now: at(5)).isEmpty)
        // Once the result is written, the database no longer offers the row; holding it would only waste a place.
        schedule.recorded([9])
        #expect(schedule.held == 0)
    }

    /// With pacing off a lane is idle as soon as it empties; while the handle of a message it posted is not
    /// yet written, dropping it would make a repeat firing read meanwhile post a new first message.
    @Test func aLaneKeepsAPostedMessageUntilItsHandleIsWritten() {
        var schedule = DeliverySchedule(policy: Config.Delivery(channelInterval: 0))
        enqueue(&schedule, [pendingDelivery(id: 1)])
        let first = schedule.startable(now: at(0))
        let handle = MessageHandle(
            issueID: 1, kind: .slack, target: "acme", channel: "#payments", channelID: "C1", ref: "1.0001")
        schedule.learnParent(handle, lane: first[0].lane, row: 1)
        schedule.attemptEnded(first[0])
        schedule.dropIdleLanes(now: at(1))
        enqueue(&schedule, [pendingDelivery(id: 2)])
        let second = schedule.startable(now: at(1))
        #expect(second.first?.parent == handle)
        schedule.attemptEnded(second[0])
        schedule.recorded([1, 2])
        schedule.dropIdleLanes(now: at(2))
        #expect(schedule.lanes.isEmpty)
    }

    @Test func aRowAlreadyInMemoryIsNotQueuedTwice() {
        var schedule = DeliverySchedule(policy: Config.Delivery())
        let row = pendingDelivery(id: 7)
        let first = schedule.enqueue(row, scope: scope(row), notBefore: at(0), now: at(0))
        let second = schedule.enqueue(row, scope: scope(row), notBefore: at(0), now: at(0))
        #expect(first)
        #expect(!second)
        #expect(schedule.held == 1)
    }

    /// Many channels, rows arriving in pages as the dispatcher reads them, attempts that take varying times,
    /// idle lanes dropped at every read: no channel ever starts more than its bucket allows in any window.
    @Test(arguments: [1, 2, 3])
    func pacingHoldsForEveryChannelUnderASimulatedDrain(seed: UInt64) {
        let burst = 3
        let interval = 1.0
        var schedule = DeliverySchedule(policy: Config.Delivery(channelBurst: burst, channelInterval: interval))
        var random = SplitMix(seed: seed)
        let channels = 40
        let rounds = 6
        // Page p holds round p of every channel, as the benchmark's outbox does.
        var pages: [[PendingDelivery]] = (0..<rounds).map { round in
            (0..<channels).map { channel in pendingDelivery(id: Int64(round * channels + channel + 1), channel: "#c\(channel)") }
        }
        var running: [(ends: Double, attempt: DeliverySchedule.Attempt)] = []
        var starts: [String: [Double]] = [:]
        var time = 0.0
        var done = 0
        while done < channels * rounds {
            if !pages.isEmpty, random.next() % 10 == 0 || schedule.held == 0 {
                schedule.dropIdleLanes(now: at(time))
                enqueue(&schedule, pages.removeFirst(), notBefore: time)
            }
            for attempt in schedule.startable(now: at(time)) {
                starts[attempt.delivery.channel ?? "", default: []].append(time)
                running.append((time + Double(random.next() % 300) / 1_000, attempt))
            }
            time += 0.01
            for (index, item) in running.enumerated().reversed() where item.ends <= time {
                running.remove(at: index)
                schedule.recorded([item.attempt.delivery.id])
                schedule.attemptEnded(item.attempt)
                done += 1
            }
        }
        for (channel, times) in starts {
            #expect(times.count == rounds, "\(channel)")
            for first in times.indices {
                for last in times.indices where last > first {
                    let allowed = Double(burst) + (times[last] - times[first] + 1e-9) / interval
                    #expect(Double(last - first + 1) <= allowed.rounded(.down), "\(channel): \(times)")
                }
            }
        }
    }

    @Test func webhooksShareOneLanePerTarget() {
        var schedule = DeliverySchedule(policy: Config.Delivery(maxInFlightPerTarget: 3))
        enqueue(&schedule, (1...5).map { pendingDelivery(id: $0, kind: .webhook, target: "pager") })
        #expect(schedule.lanes.count == 1)
        #expect(schedule.startable(now: at(0)).map(\.delivery.id) == [1, 2, 3])
    }
}

/// What a failed attempt leads to, as a table.
@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(retryDelay: 2, maxRetryDelay: 600, memoryRetrySeconds: 5, giveUpAfter: 3_600)

    static let cases: [(failure: ChatFailure, attempts: Int, age: Double, jitter: Double, expected: RetryPolicy.Decision)] = [
        (.transient("HTTP 503"), 1, 0, 0, .retryInMemory(after: 1)),
        (.transient("HTTP 503"), 1, 0, 1, .retryInMemory(after: 2)),
        (.transient("HTTP 503"), 3, 0, 1, .park(after: 8)),
        (.transient("HTTP 503"), 3, 0, 0.5, .park(after: 6)),
        (.transient("HTTP 503"), 40, 0, 1, .park(after: 600)),
        (.rateLimited(retryAfter: 1), 1, 0, 0.7, .retryInMemory(after: 1)),
        (.rateLimited(retryAfter: 30), 1, 0, 0.7, .park(after: 30)),
        (.transient("timeout"), 2, 3_599, 0, .dead(reason: "gave up after 2 attempts over 3599 s; last error: timeout")),
        (.permanent(code: "channel_not_found", detail: ""), 1, 0, 0, .failed(reason: "channel_not_found")),
    ]

    @Test(arguments: cases)
    func decides(_ row: (failure: ChatFailure, attempts: Int, age: Double, jitter: Double, expected: RetryPolicy.Decision)) {
        #expect(policy.decide(row.failure, attempts: row.attempts, age: row.age, jitter: row.jitter) == row.expected)
    }

    @Test func backoffStaysWithinHalfAndAllOfItsCeiling() {
        for attempts in 1...40 {
            let ceiling = min(600, 2 * pow(2, Double(min(attempts - 1, 30))))
            #expect(policy.backoff(attempts: attempts, jitter: 0) == ceiling / 2)
            #expect(policy.backoff(attempts: attempts, jitter: 1) == ceiling)
        }
    }
}

/// A small seeded generator, so a simulated run repeats exactly.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
