import Foundation
import HeraldConfig
import HeraldCore
import HeraldRules
import HeraldStore

/// The issue page: everything needed to decide what to do about an alert, read through the store functions
/// the admin API uses.
struct IssuePage {
    var title: String
    var nav = Navigation(issues: true)
    var stylesheet = Stylesheet.path
    var viewer: ViewerModel
    var csrf: String
    var flash: String?
    var issue: Header
    var canAct: Bool
    var buttons: [Button]
    var ignoreChoices: [Choice]
    var assignees: [Choice]
    var charts: [Chart]
    var firings: [Firing]
    var hasFirings: Bool
    var quietRules: [QuietRule]
    var hasQuietRules: Bool
    var whyNot: WhyNot?
    var event: EventView?
    var events: [EventLink]
    var storedCount: Int
    var tagGroups: [TagGroup]
    var deliveries: [DeliveryRow]
    var audit: [AuditRow]

    struct Header {
        var id: Int64
        var shortID: String
        var title: String
        var level: String
        var status: String
        var stateText: String
        var project: String
        var culprit: String?
        var assignee: String?
        /// "Bob, 2026-12-06 14:37 UTC (Slack)" while the issue stands acknowledged.
        var acknowledged: String?
        var firstSeen: Moment
        var lastSeen: Moment
        var events: Int
        var users: Int
        var releases: [String]
        var environments: [String]
    }

    struct Button {
        var value: String
        var label: String
        var primary = false
    }

    struct Firing {
        var issueID: Int64
        var rule: String
        var location: String
        var at: Moment
        var state: String
        var eventID: String
        var eventShort: String
        var version: String
        var versionChanged: Bool
        var verdict: Verdict?
        var open: Bool
    }

    struct Verdict {
        var matched: Bool
        var reason: String
        var location: String
    }

    struct QuietRule {
        var issueID: Int64
        var name: String
        var nameEncoded: String
    }

    struct WhyNot {
        var rule: String
        var verdict: Verdict?
    }

    struct EventLink {
        var issueID: Int64
        var eventID: String
        var eventShort: String
        var received: Moment
        var environment: String?
        var release: String?
        var current: Bool
    }

    struct DeliveryRow {
        var id: Int64
        var kind: String
        var target: String
        var channel: String
        var purpose: String
        var status: String
        var attempts: Int
        var lastError: String?
        var messageLink: String?
    }

    struct AuditRow {
        var at: Moment
        var summary: String
        var oldState: String
        var newState: String
    }
}

/// The signed-in person as the layout shows them.
struct ViewerModel {
    var name: String
    var role: String
    var csrf: String

    init(_ viewer: Viewer) {
        name = viewer.name
        role = viewer.role
        csrf = viewer.csrf
    }
}

/// What the issue page is asked for besides the issue: an older event, a rule to explain, a message to show.
public struct IssuePageOptions: Sendable {
    public var eventID: String?
    public var whyNot: String?
    public var flash: String?

    public init(eventID: String? = nil, whyNot: String? = nil, flash: String? = nil) {
        self.eventID = eventID
        self.whyNot = whyNot
        self.flash = flash
    }
}

extension ConsolePages {
    /// The issue page, or nil when there is no such issue.
    public func issue(
        _ reference: String, viewer: Viewer, options: IssuePageOptions = IssuePageOptions(), now: Date = Date()
    ) async throws -> String? {
        try await issueModel(reference, viewer: viewer, options: options, now: now).map { renderer.render($0, as: "issue") }
    }

    /// What the issue page shows, before it is rendered.
    func issueModel(
        _ reference: String, viewer: Viewer, options: IssuePageOptions = IssuePageOptions(), now: Date = Date()
    ) async throws -> IssuePage? {
        guard let issue = try await store.issue(reference) else { return nil }
        let project = config.project(id: issue.projectID)?.slug ?? String(issue.projectID)
        let stored = try await store.events(issue: issue.id, limit: max(1, store.configuration.eventsPerIssue))
        let decoded = stored.map { ($0, try? JSONDecoder().decode(Event.self, from: $0.payload)) }
        let shown = options.eventID.flatMap { id in decoded.first { $0.0.eventID == id } } ?? decoded.first
        let engine = rules().engine

        // Why it alerted: each firing's rule re-checked for the firing's event, at the firing's time.
        let firingRecords = try await store.firings(issue: issue.id, limit: 50)
        var explained: [String: Explanation] = [:]
        var firings: [IssuePage.Firing] = []
        for (index, firing) in firingRecords.enumerated() {
            var verdict: IssuePage.Verdict?
            if let event = decoded.first(where: { $0.0.eventID == firing.eventID })?.1 {
                let key = firing.eventID + "@" + firing.state
                if explained[key] == nil, explained.count < 20 {
                    explained[key] = try await store.explain(
                        event, project: project, issue: issue, state: IssueState(rawValue: firing.state) ?? .ongoing,
                        at: firing.firedAt, engine: engine)
                }
                verdict = explained[key]?.rules.first { $0.name == firing.rule }.map(IssuePage.Verdict.init)
            }
            let rule = engine.ruleSet.rules.first { $0.project == project && $0.name == firing.rule }
            firings.append(IssuePage.Firing(
                issueID: issue.id, rule: firing.rule, location: rule?.location.description ?? "no longer loaded",
                at: Moment(firing.firedAt), state: firing.state, eventID: firing.eventID,
                eventShort: String(firing.eventID.prefix(12)), version: String(firing.ruleSetVersion.prefix(12)),
                versionChanged: firing.ruleSetVersion != engine.ruleSet.version, verdict: verdict, open: index == 0))
        }
        let fired = Set(firingRecords.map(\.rule))
        let quiet = engine.ruleSet.rules.filter { $0.project == project && !fired.contains($0.name) }.map {
            IssuePage.QuietRule(issueID: issue.id, name: $0.name, nameEncoded: FormEncoding.escape($0.name))
        }
        var whyNot: IssuePage.WhyNot?
        if let name = options.whyNot {
            var verdict: IssuePage.Verdict?
            if let latest = decoded.first, let event = latest.1 {
                let explanation = try await store.explain(
                    event, project: project, issue: issue, state: Self.state(of: issue), at: now, engine: engine)
                verdict = explanation.rules.first { $0.name == name }.map(IssuePage.Verdict.init)
            }
            whyNot = IssuePage.WhyNot(rule: name, verdict: verdict)
        }

        let deliveries = try await store.deliveries(issue: issue.id, limit: 100).map { entry in
            IssuePage.DeliveryRow(
                id: entry.id ?? 0, kind: entry.kind.rawValue, target: entry.target, channel: entry.channel ?? entry.deliveredChannel ?? "",
                purpose: entry.purpose.rawValue, status: entry.status.rawValue, attempts: entry.attempts,
                lastError: entry.lastError ?? entry.problem,
                messageLink: entry.deliveredRef != nil && entry.kind != .webhook ? "/deliveries/\(entry.id ?? 0)/message" : nil)
        }
        let audit = try await store.actions(issue: issue.id).map {
            IssuePage.AuditRow(at: Moment($0.at), summary: $0.summary, oldState: $0.oldState, newState: $0.newState)
        }
        let hourly = try await store.eventSeries(issue: issue.id, step: .hour, count: 24, endingAt: now)
        let daily = try await store.eventSeries(issue: issue.id, step: .day, count: 14, endingAt: now)

        let acknowledged = try await store.acknowledgement(issue: issue).map { "\($0.name), \(Moment($0.at).text) (\($0.surface))" }
        let releases = Self.distinct([issue.lastRelease] + stored.map(\.release))
        let environments = Self.distinct(stored.map(\.environment))
        let users = config.users.filter { $0.role != .stakeholder }
        let assignee = issue.assignee.map { assignee -> String in
            if case .user(let email) = assignee, let user = config.user(email: email) { return "\(user.name) (\(email))" }
            return assignee.description
        }
        let page = IssuePage(
            title: "\(issue.shortID) \(issue.title)", viewer: ViewerModel(viewer), csrf: viewer.csrf, flash: options.flash,
            issue: IssuePage.Header(
                id: issue.id, shortID: issue.shortID, title: issue.title, level: issue.level.name, status: issue.status.rawValue,
                stateText: issue.stateDescription, project: project, culprit: issue.culprit, assignee: assignee,
                acknowledged: acknowledged,
                firstSeen: Moment(issue.firstSeen), lastSeen: Moment(issue.lastSeen), events: issue.timesSeen,
                users: issue.usersSeen, releases: releases, environments: environments),
            canAct: viewer.canAct, buttons: Self.buttons(for: issue),
            // The chat messages' Ignore menu, choice for choice.
            ignoreChoices: IssueAction.ignoreMenu.map { Choice(value: IssueAction.ignore($0.choice).description, label: $0.label) },
            assignees: [Choice(value: "unassign", label: "nobody", selected: issue.assignee == nil)] + users.map { user in
                Choice(value: "assign:\(user.email)", label: user.name, selected: issue.assignee == .user(email: user.email))
            },
            charts: [
                Chart(title: "Last 24 hours, per hour", points: hourly, label: { Self.hourLabel($0) }),
                Chart(title: "Last 14 days, per day", points: daily, label: { Self.dayLabel($0) }),
            ],
            firings: firings, hasFirings: !firings.isEmpty, quietRules: quiet, hasQuietRules: !quiet.isEmpty, whyNot: whyNot,
            event: shown.map { EventView(stored: $0.0, event: $0.1, latest: $0.0.eventID == stored.first?.eventID) },
            events: stored.map { event in
                IssuePage.EventLink(
                    issueID: issue.id, eventID: event.eventID, eventShort: String(event.eventID.prefix(12)),
                    received: Moment(event.receivedAt), environment: event.environment, release: event.release,
                    current: event.eventID == shown?.0.eventID)
            },
            storedCount: stored.count, tagGroups: TagGroup.breakdown(decoded.compactMap(\.1)), deliveries: deliveries,
            audit: audit)
        return page
    }

    /// The buttons the chat message has, for the issue as it stands.
    static func buttons(for issue: Issue) -> [IssuePage.Button] {
        var buttons: [IssuePage.Button] = []
        if issue.status == .unresolved {
            buttons.append(IssuePage.Button(value: "resolve", label: "Resolve", primary: true))
            buttons.append(IssuePage.Button(value: "resolve_next_release", label: "Resolve in next release"))
            buttons.append(IssuePage.Button(value: "ack", label: "Acknowledge"))
        } else {
            buttons.append(IssuePage.Button(value: "unresolve", label: issue.status == .ignored ? "Stop ignoring" : "Unresolve", primary: true))
        }
        return buttons
    }

    /// The trigger state an event arriving now would see: what "why not" explains with.
    static func state(of issue: Issue) -> IssueState {
        switch (issue.status, issue.substatus) {
        case (.resolved, _): .regression
        case (.ignored, _), (_, .reappeared): .reappeared
        default: .ongoing
        }
    }

    static func distinct(_ values: [String?]) -> [String] {
        var seen = Set<String>()
        return values.compactMap { $0 }.filter { seen.insert($0).inserted }
    }

    static func hourLabel(_ date: Date) -> String { String(Timestamp.text(date).dropFirst(11).prefix(5)) }
    static func dayLabel(_ date: Date) -> String { String(Timestamp.text(date).prefix(10)) }
}

extension IssuePage.Verdict {
    init(_ verdict: Explanation.Verdict) {
        self.init(matched: verdict.matched, reason: verdict.reason, location: verdict.location.description)
    }
}

/// An events-over-time bar chart drawn as inline SVG: bar geometry in whole units of the view box.
struct Chart {
    var title: String
    var total: Int
    var width: Int
    var height = 60
    var bars: [Bar]
    var from: String
    var to: String

    struct Bar {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var label: String
        var count: Int
    }

    init(title: String, points: [SeriesPoint], label: (Date) -> String) {
        self.title = title
        let step = 10
        width = max(1, points.count * step)
        total = points.reduce(0) { $0 &+ $1.events }
        let peak = max(1, points.map(\.events).max() ?? 1)
        let room = height - 2
        bars = points.enumerated().map { index, point in
            // At least one unit for a bucket with events, so a single event shows.
            let tall = point.events == 0 ? 0 : max(1, Int((Double(point.events) / Double(peak) * Double(room)).rounded()))
            return Bar(x: index * step + 1, y: 60 - tall, width: step - 2, height: tall, label: label(point.start), count: point.events)
        }
        from = points.first.map { label($0.start) } ?? ""
        to = points.last.map { label($0.start) } ?? ""
    }
}

/// The top values of each tag over the stored events.
struct TagGroup {
    var key: String
    var values: [Value]

    struct Value {
        var value: String
        var count: Int
        var percent: Int
    }

    static func breakdown(_ events: [Event], top: Int = 5) -> [TagGroup] {
        var counts: [String: [String: Int]] = [:]
        for event in events {
            for tag in event.tags { counts[tag.key, default: [:]][tag.value, default: 0] += 1 }
            if let environment = event.environment { counts["environment", default: [:]][environment, default: 0] += 1 }
            if let release = event.release { counts["release", default: [:]][release, default: 0] += 1 }
        }
        return counts.keys.sorted().map { key in
            let values = counts[key] ?? [:]
            let total = max(1, values.values.reduce(0, +))
            let ranked = values.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(top)
            return TagGroup(key: key, values: ranked.map {
                Value(value: $0.key, count: $0.value, percent: $0.value * 100 / total)
            })
        }
    }
}
