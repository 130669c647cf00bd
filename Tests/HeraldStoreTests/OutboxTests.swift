import HeraldCore
import Foundation
import HeraldStore
import HeraldTestSupport
import Testing

@Suite struct OutboxTests {
    static let rules = """
        project: payments
        rules:
          - name: first
            when: [first_seen]
            then:
              - slack: {workspace: acme, channels: ["#payments", "#team-{{ tags.team }}"]}
              - webhook: {name: pager}
        """

    @Test func pendingRowsComeWithTheirIssueEventAndFirstMessage() async throws {
        var fixture = try StoreFixture(rules: Self.rules)
        let result = try await fixture.send(at: minutes(0))
        let page = try await fixture.store.pendingDeliveries(after: 0, limit: 10)
        #expect(page.deliveries.count == 3)
        #expect(page.isFull == false)
        #expect(page.lastID == page.deliveries.last?.id)
        let payments = try #require(page.deliveries.first { $0.channel == "#payments" })
        #expect(payments.issue.id == result.issueID)
        #expect(payments.projectSlug == "payments")
        #expect(payments.eventPayload == Data("{}".utf8))
        #expect(payments.parent == nil)
        #expect(payments.channelTemplate == nil)
        let templated = try #require(page.deliveries.first { $0.channelTemplate != nil })
        #expect(templated.channelTemplate == "#team-{{ tags.team }}")
        #expect(templated.problem == "channel #team-{{ tags.team }} cannot be rendered: the event has no tag 'team'")

        // Delivered with its handle in one transaction; later rows of the issue in that channel see it.
        let handle = MessageHandle(
            issueID: result.issueID, kind: .slack, target: "acme", channel: "#payments", channelID: "C1", ref: "1.0001")
        let webhook = try #require(page.deliveries.first { $0.kind == .webhook })
        try await fixture.store.complete([
            DeliveryCompletion(
                id: payments.id, attempts: 1, outcome: .delivered(handle),
                resolvedChannel: ResolvedChannel(kind: .slack, target: "acme", name: "#payments", id: "C1")),
            DeliveryCompletion(id: webhook.id, attempts: 2, outcome: .retry(at: minutes(5), reason: "HTTP 503")),
            DeliveryCompletion(id: templated.id, attempts: 1, outcome: .failed(reason: "channel_unrenderable")),
        ])
        let rows = try await fixture.store.deliveries(DeliveryQuery())
        #expect(rows.first { $0.id == payments.id }?.status == .delivered)
        #expect(rows.first { $0.id == payments.id }?.deliveredRef == "1.0001")
        #expect(rows.first { $0.id == webhook.id }?.status == .pending)
        #expect(rows.first { $0.id == webhook.id }?.nextAttemptAt == minutes(5))
        #expect(rows.first { $0.id == webhook.id }?.lastError == "HTTP 503")
        #expect(rows.first { $0.id == templated.id }?.status == .failed)
        #expect(try await fixture.store.messageHandles(issue: result.issueID) == [handle])
        #expect(try await fixture.store.resolvedChannels(kind: .slack) == ["acme": ["#payments": "C1"]])

        // Only the retried row is still pending; a completed row is never completed twice.
        let again = try await fixture.store.pendingDeliveries(after: 0, limit: 10)
        #expect(again.deliveries.map(\.id) == [webhook.id])
        #expect(again.deliveries.first?.attempts == 2)
        try await fixture.store.complete([DeliveryCompletion(id: payments.id, attempts: 5, outcome: .dead(reason: "late"))])
        #expect(try await fixture.store.deliveries(DeliveryQuery(statuses: [.dead])).isEmpty)
    }

    @Test func theCallbackKeyIsMadeOnceAndKept() throws {
        let directory = TemporaryDirectory()
        let first = try Store(path: directory.path + "/herald.sqlite").callbackKey()
        #expect(first.count == 32)
        #expect(try Store(path: directory.path + "/herald.sqlite").callbackKey() == first)
        #expect(try Store(path: TemporaryDirectory().path + "/herald.sqlite").callbackKey() != first)
    }
}

@Suite struct IgnoreExpiryTests {
    @Test func anIgnoreThatRunsOutUnresolvesAndTheNextEventFiresReappeared() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        let bob = Actor(email: "bob@example.com", name: "Bob", surface: "Slack")
        let ignored = try await fixture.store.act(
            on: first.issueID, .ignore(.duration(1_800)), action: "ignore:1800s",
            summary: "Ignored for 30 minutes by Bob via Slack", actor: bob, now: minutes(1))
        guard case .changed = ignored else {
            Issue.record("not changed: \(ignored)")
            return
        }
        #expect(try await fixture.store.expireIgnores(now: minutes(30)).isEmpty)
        let ended = try await fixture.store.expireIgnores(now: minutes(31))
        #expect(ended.map(\.id) == [first.issueID])
        #expect(try await fixture.store.expireIgnores(now: minutes(32)).isEmpty)
        let issue = try #require(try await fixture.store.issue(String(first.issueID)))
        #expect(issue.status == .unresolved)
        #expect(issue.substatus == .reappeared)
        let records = try await fixture.store.actions(issue: first.issueID)
        #expect(records.map(\.action) == ["expire", "ignore:1800s"])
        #expect(records.first?.actor.name == "Herald")
        #expect(records.first?.oldState.hasPrefix("ignored until") == true)
        #expect(records.first?.newState == "unresolved")

        let next = try await fixture.send(at: minutes(40))
        #expect(next.state == .reappeared)
        #expect(next.firedRules.contains("reappeared"))
        #expect(try await fixture.store.issue(String(first.issueID))?.substatus == .ongoing)
        let after = try await fixture.send(at: minutes(41))
        #expect(after.state == .ongoing)
    }

    @Test func anIgnoreUntilMoreEventsEndsWithTheEventThatCompletesTheCount() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        _ = try await fixture.store.act(
            on: first.issueID, .ignore(.moreEvents(2)), action: "ignore:2events", summary: "Ignored",
            actor: Actor(email: nil, name: "an admin", surface: "the admin API"), now: minutes(1))
        #expect(try await fixture.send(at: minutes(2)).state == nil)
        #expect(try await fixture.send(at: minutes(3)).state == .reappeared)
        #expect(try await fixture.store.issue(String(first.issueID))?.status == .unresolved)
    }
}
