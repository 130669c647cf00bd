import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldRules
import HeraldStore

/// `herald notify-test`: a rule's real message, rendered for a sample or given event and sent to every place
/// the rule names through the `Courier`, as delivery would send it, marked as a test.
///
/// The issue is made up for the message (it is not stored), so nothing in Herald's state changes; buttons on
/// a test message name issue 0, which no callback will find.
public struct NotifyTest: Sendable {
    public struct Result: Sendable {
        public var delivery: Delivery
        public var outcome: Courier.Result
    }

    public let courier: Courier

    public init(courier: Courier) {
        self.courier = courier
    }

    /// An event that fills every tag the rule shows, for when no event file is given.
    public static func sampleEvent(for rule: Rule) -> Event {
        let deliveries = RuleEngine.deliveries(for: [rule], event: Event())
        var keys = deliveries.flatMap(\.tags)
        for action in rule.actions {
            if case .slack(let chat) = action { keys += chat.channels.flatMap(\.tagKeys) }
            if case .mattermost(let chat) = action { keys += chat.channels.flatMap(\.tagKeys) }
        }
        var seen = Set<String>()
        let tags = keys.filter { seen.insert($0).inserted }.map { Event.Tag($0, "sample-\($0)") }
        return Event(
            eventID: String(repeating: "0", count: 32), timestamp: Date(), level: .error, release: "1.0.0",
            environment: "production",
            message: "Test notification for the rule '\(rule.name)': this is what its alerts look like.",
            tags: tags)
    }

    /// Sends the rule's messages for the event; one result per place, in the rule's order.
    public func send(rule: Rule, event: Event) async -> [Result] {
        let now = Date()
        let issue = Issue(
            id: 0, projectID: 0, number: 0, shortID: "\(rule.project.uppercased())-TEST", fingerprint: "test",
            title: event.title, culprit: event.culprit, level: event.level, status: .unresolved, substatus: .new,
            firstSeen: now, lastSeen: now, timesSeen: 1, usersSeen: event.userKey == nil ? 0 : 1,
            lastRelease: event.release, assignee: nil, ignore: nil, resolution: nil, regressedAt: nil)
        let payload = event.sentryPayload()
        var results: [Result] = []
        for delivery in RuleEngine.deliveries(for: [rule], event: event) {
            let record = OutboxRecord(
                projectID: 0, issueID: 0, eventRowID: 0, eventID: event.eventID ?? "test", kind: delivery.kind,
                target: delivery.target, channel: delivery.channel, channelTemplate: delivery.channelTemplate,
                rules: delivery.rules, tags: delivery.tags, notes: delivery.notes, problem: delivery.problem, now: now)
            let pending = PendingDelivery(record: record, projectSlug: rule.project, issue: issue, eventPayload: payload)
            results.append(Result(delivery: delivery, outcome: await courier.deliver(pending, parent: nil, isTest: true)))
        }
        return results
    }
}

extension ChannelTemplate {
    /// The tag keys the template takes from the event.
    var tagKeys: [String] {
        parts.compactMap { if case .tag(let key) = $0 { key } else { nil } }
    }
}
