import Foundation
import HeraldConfig
import HeraldCore
import HeraldChat
import HeraldStore
@testable import HeraldDelivery
import Testing

/// The lane's pacing and the dispatcher's timer heap, on instants the test chooses: no sleeping, no clock.
@Suite struct LaneTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1_000)) }

    @Test func aChannelSendsItsBurstThenOnePerInterval() {
        var lane = Lane(kind: .slack, target: "acme", policy: Config.Delivery(channelBurst: 3, channelInterval: 1), now: at(0))
        #expect(lane.maxInFlight == 1)
        // Three at once.
        for _ in 0..<3 {
            #expect(lane.tokenReadyAt(now: at(0)) == nil)
            lane.takeToken(now: at(0))
        }
        // The fourth waits for the next token, a second later.
        #expect(lane.tokenReadyAt(now: at(0)) == at(1))
        #expect(lane.tokenReadyAt(now: at(0.4)) == at(1))
        #expect(lane.tokenReadyAt(now: at(1)) == nil)
        lane.takeToken(now: at(1))
        #expect(lane.tokenReadyAt(now: at(1.5)) == at(2))
        // After a quiet spell the burst is back, and never more than the burst.
        #expect(!lane.isIdle(now: at(3)))
        #expect(lane.isIdle(now: at(4)))
        for _ in 0..<3 {
            #expect(lane.tokenReadyAt(now: at(10)) == nil)
            lane.takeToken(now: at(10))
        }
        #expect(lane.tokenReadyAt(now: at(10)) == at(11))
    }

    @Test func webhooksAreNotPacedButCapped() {
        var lane = Lane(kind: .webhook, target: "pager", policy: Config.Delivery(maxInFlightPerTarget: 7), now: at(0))
        #expect(lane.maxInFlight == 7)
        for _ in 0..<100 {
            #expect(lane.tokenReadyAt(now: at(0)) == nil)
            lane.takeToken(now: at(0))
        }
    }

    @Test func aLaneKeepsItsOrderAndARetryGoesFirst() {
        var lane = Lane(kind: .slack, target: "acme", policy: Config.Delivery(), now: at(0))
        #expect(lane.isEmpty)
        #expect(lane.isIdle(now: at(0)))
        let scope = RateLimitScope(kind: .slack, target: "acme", method: "chat.postMessage")
        for id in 1...100 { lane.append(Queued(delivery: pendingDelivery(id: Int64(id)), notBefore: at(0), scope: scope)) }
        var order: [Int64] = []
        for step in 0..<100 {
            let item = lane.popHead()
            order.append(item.delivery.id)
            if step == 70 { lane.pushFront(item) }
        }
        #expect(order == Array(1...71) + [71] + Array(72...99))
        #expect(lane.popHead().delivery.id == 100)
        #expect(lane.isEmpty)
    }

    /// Spans from outside (a platform's Retry-After) never trap when added to an instant.
    @Test(arguments: [
        (1.5, Duration.milliseconds(1_500)), (-1, .zero), (.nan, .zero), (.infinity, .seconds(365 * 86_400)),
        (1e300, .seconds(365 * 86_400)),
    ])
    func spansFromOutsideAreClamped(_ seconds: Double, _ expected: Duration) {
        #expect(Duration.clampedSeconds(seconds) == expected)
    }

    @Test func timersComeOutEarliestFirst() {
        var heap = TimerHeap<String>()
        let offsets = [5.0, 1, 9, 3, 3, 0.5, 7, 2]
        for (index, offset) in offsets.enumerated() { heap.push(at(offset), "lane \(index)") }
        #expect(heap.earliest == at(0.5))
        #expect(heap.popDue(now: at(0.1)) == nil)
        var due: [String] = []
        while let key = heap.popDue(now: at(3)) { due.append(key) }
        #expect(due.count == 5)
        #expect(due.first == "lane 5")
        #expect(Set(due.suffix(2)) == ["lane 3", "lane 4"])
        #expect(heap.earliest == at(5))
    }
}

/// A delivery with nothing but an id, for queue tests.
func pendingDelivery(id: Int64, kind: DeliveryKind = .slack, target: String = "acme", channel: String? = "#payments",
                     purpose: DeliveryPurpose = .alert) -> PendingDelivery
{
    let now = Date()
    let issue = HeraldCore.Issue(
        id: 1, projectID: 1, number: 1, shortID: "PAYMENTS-1", fingerprint: "f", title: "t", culprit: nil,
        level: .error, status: .unresolved, substatus: .new, firstSeen: now, lastSeen: now, timesSeen: 1, usersSeen: 0,
        lastRelease: nil, assignee: nil, ignore: nil, resolution: nil, regressedAt: nil)
    var record = OutboxRecord(
        projectID: 1, issueID: 1, eventRowID: 1, eventID: "e", kind: kind, target: target,
        channel: kind.hasChannels ? channel : nil, rules: ["r"], tags: [], notes: [], purpose: purpose, now: now)
    record.id = id
    return PendingDelivery(record: record, projectSlug: "payments", issue: issue, eventPayload: nil)
}
