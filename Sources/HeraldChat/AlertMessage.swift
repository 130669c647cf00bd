// HeraldChat speaks to people: it turns an issue and the event that fired it into Slack Block Kit messages,
// Mattermost attachments and webhook bodies, talks to the Slack Web API and Mattermost's REST API and
// incoming webhooks, and signs what goes into buttons. `AlertMessage` is the content every platform shows;
// `SlackMessage`, `MattermostMessage` and `WebhookBody` lay it out. Delivery (pacing, retries) is
// HeraldDelivery's; this module sends one request and says how it ended.

import Foundation
import HeraldConfig
import HeraldCore

/// What an alert shows, whatever the platform: built from the issue, the event that fired the rules, and
/// the deliveries' rules, tags and notes.
public struct AlertMessage: Sendable, Hashable {
    public var issueID: Int64
    public var shortID: String
    public var title: String
    /// Herald's page for the issue.
    public var url: String
    public var level: Level
    public var status: IssueStatus
    public var assignee: String?
    public var culprit: String?
    /// The event's message, or its exception's value when it has no message.
    public var excerpt: String?
    public var project: String
    public var environment: String?
    public var release: String?
    public var eventID: String
    /// The tags the rules asked for, in their order; a value is nil when the event lacks the tag.
    public var tags: [TagField]
    public var events: Int
    public var users: Int
    public var firstSeen: Date
    public var lastSeen: Date
    public var notes: [String]
    public var rules: [String]
    /// People the Assign menu offers.
    public var assignees: [Config.User]
    /// A line about the issue's state that replaces nothing but is shown under the title, such as
    /// "Resolved by Alice via Slack".
    public var stateNote: String?
    /// Set for test messages from `herald notify-test`.
    public var isTest: Bool

    public struct TagField: Sendable, Hashable {
        public var key: String
        public var value: String?
    }

    public init(
        issue: Issue, event: Event?, eventID: String, project: String, rules: [String], tags: [String],
        notes: [String], publicURL: String, assignees: [Config.User] = [], stateNote: String? = nil,
        isTest: Bool = false
    ) {
        issueID = issue.id
        shortID = issue.shortID
        title = issue.title
        url = "\(publicURL)/issues/\(issue.id)"
        level = event?.level ?? issue.level
        status = issue.status
        assignee = issue.assignee.map { assignee in
            switch assignee {
            case .user(let email): assignees.first { $0.email.caseInsensitiveCompare(email) == .orderedSame }?.name ?? email
            case .team(let name): "team " + name
            }
        }
        culprit = issue.culprit
        excerpt = event.flatMap(Self.excerpt)
        self.project = project
        environment = event?.environment
        release = event?.release ?? issue.lastRelease
        self.eventID = eventID
        // Project, environment and release are always shown; a rule naming them among its tags adds nothing.
        var seen: Set<String> = ["project", "environment", "release"]
        self.tags = tags.filter { seen.insert($0.lowercased()).inserted }.map { key in
            TagField(key: key, value: event.flatMap { Self.tagValue(key, in: $0) })
        }
        events = issue.timesSeen
        users = issue.usersSeen
        firstSeen = issue.firstSeen
        lastSeen = issue.lastSeen
        self.notes = notes
        self.rules = rules
        self.assignees = assignees
        self.stateNote = stateNote
        self.isTest = isTest
    }

    /// The message's first lines, or the raised exception's value.
    static func excerpt(_ event: Event) -> String? {
        if let message = event.message, !message.isEmpty { return message }
        if let value = event.exceptions.last?.value, !value.isEmpty { return value }
        return nil
    }

    /// A tag's value; `environment`, `release`, `level` and `server_name` fall back to the event's own fields,
    /// as Sentry shows them among the tags.
    static func tagValue(_ key: String, in event: Event) -> String? {
        if let value = event.tagValues(key).first { return value }
        switch key.lowercased() {
        case "environment": return event.environment
        case "release": return event.release
        case "level": return event.level.name
        case "server_name": return event.serverName
        case "transaction": return event.transaction
        default: return nil
        }
    }

    /// One line for notifications, lock screens and clients that show no blocks.
    public var fallbackText: String {
        var text = "\(isTest ? "[test] " : "")[\(level.name.uppercased())] \(shortID): \(title)"
        if let culprit { text += " — \(culprit)" }
        text += " (\(project)\(environment.map { "/" + $0 } ?? ""))"
        return text
    }

    /// "Resolved", "Ignored" or nil while unresolved, with the assignee when there is one.
    public var stateSummary: String? {
        var parts: [String] = []
        switch status {
        case .resolved: parts.append("Resolved")
        case .ignored: parts.append("Ignored")
        case .unresolved: break
        }
        if let assignee { parts.append("Assigned to \(assignee)") }
        if let stateNote { parts.append(stateNote) }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }
}

extension Level {
    /// How Slack and Mattermost messages show the level.
    public var emoji: String {
        switch self {
        case .debug: ":white_circle:"
        case .info: ":large_blue_circle:"
        case .warning: ":large_orange_circle:"
        case .error: ":red_circle:"
        case .fatal: ":skull:"
        }
    }

    /// The attachment colour Mattermost shows along the message's edge.
    public var color: String {
        switch self {
        case .debug: "#9E9E9E"
        case .info: "#2F80ED"
        case .warning: "#F2994A"
        case .error: "#E01E5A"
        case .fatal: "#7B1FA2"
        }
    }
}
