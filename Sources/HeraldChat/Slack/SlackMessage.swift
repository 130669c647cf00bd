import Foundation
import HeraldCore

/// A Slack message: Block Kit blocks and the plain-text fallback Slack shows in notifications.
///
/// Every text is fitted to Block Kit's limits (section text 3,000, fields 2,000, button labels 75, option
/// values 150, at most 50 blocks), so Slack never refuses a message for its length.
public struct SlackMessage: Sendable {
    public var text: String
    public var blocks: [[String: any Sendable]]

    /// The limits Herald fits messages to, from Slack's Block Kit reference.
    public enum Limit {
        public static let fallbackText = 4_000
        public static let blocks = 50
        public static let sectionText = 3_000
        public static let fields = 10
        public static let fieldText = 2_000
        public static let buttonText = 75
        public static let options = 100
        public static let optionText = 75
        public static let optionValue = 150
    }

    public init(text: String, blocks: [[String: any Sendable]]) {
        self.text = text
        self.blocks = blocks
    }

    /// The full alert: the first message of an issue in a channel, and what updates rewrite it to.
    public static func alert(_ alert: AlertMessage) -> SlackMessage {
        var blocks: [[String: any Sendable]] = []
        if alert.isTest {
            blocks.append(context(":test_tube: Test notification sent by `herald notify-test`"))
        }
        var heading = "\(alert.level.emoji) *<\(alert.url)|\(alert.title.slackFitted(to: 1_000))>*"
        if let culprit = alert.culprit { heading += "\n`\(culprit.slackFitted(to: 1_000))`" }
        blocks.append(section(heading))
        if let state = alert.stateSummary { blocks.append(context("*\(state.slackFitted(to: 2_900))*")) }
        if let excerpt = alert.excerpt, !alert.title.contains(excerpt) {
            let body = excerpt.replacingOccurrences(of: "```", with: "'''").slackFitted(to: Limit.sectionText - 8)
            blocks.append(section("```\(body)```"))
        }
        var fields = [("Project", alert.project as String?), ("Environment", alert.environment),
                      ("Release", alert.release)].map { field($0.0, $0.1) }
        fields += alert.tags.map { field($0.key, $0.value) }
        // Each section holds ten fields; what does not fit in four sections is left out rather than refused.
        for start in stride(from: 0, to: min(fields.count, 4 * Limit.fields), by: Limit.fields) {
            blocks.append(["type": "section", "fields": Array(fields[start..<min(start + Limit.fields, fields.count)])])
        }
        blocks.append(context(
            "*Events:* \(alert.events)   *Users:* \(alert.users)   *First seen:* \(date(alert.firstSeen))"))
        if !alert.notes.isEmpty {
            blocks.append(section(":memo: " + alert.notes.joined(separator: "\n").slackFitted(to: Limit.sectionText - 8)))
        }
        blocks.append(actions(alert))
        blocks.append(context(footer(alert)))
        return SlackMessage(text: alert.fallbackText.fitted(to: Limit.fallbackText), blocks: blocks)
    }

    /// A thread reply under the issue's first message in a channel, for a repeat firing.
    public static func reply(_ alert: AlertMessage) -> SlackMessage {
        var blocks: [[String: any Sendable]] = [
            section("\(alert.level.emoji) Fired again: *\(alert.rules.joined(separator: ", ").slackFitted(to: 1_000))*"
                + " — event `\(alert.eventID.slackFitted(to: 100))`"),
            context("*Events:* \(alert.events)   *Users:* \(alert.users)"),
        ]
        let fields = alert.tags.prefix(Limit.fields).map { field($0.key, $0.value) }
        if !fields.isEmpty { blocks.insert(["type": "section", "fields": Array(fields)], at: 1) }
        let text = "Fired again: \(alert.fallbackText)"
        return SlackMessage(text: text.fitted(to: Limit.fallbackText), blocks: blocks)
    }

    /// A thread reply recording what someone did: "Resolved by Alice via Slack".
    public static func note(_ text: String) -> SlackMessage {
        SlackMessage(text: text.fitted(to: Limit.fallbackText), blocks: [section(":memo: " + text.slackFitted(to: 2_900))])
    }

    /// The `chat.postMessage` body.
    public func postBody(channel: String, threadTS: String? = nil) -> [UInt8] {
        var body: [String: any Sendable] = [
            "channel": channel, "text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false,
        ]
        body["thread_ts"] = threadTS
        return Array(JSONWriter.text(body).utf8)
    }

    /// The `chat.update` body for a message Herald posted.
    public func updateBody(channel: String, ts: String) -> [UInt8] {
        Array(JSONWriter.text(["channel": channel, "ts": ts, "text": text, "blocks": blocks]).utf8)
    }

    // MARK: Blocks

    private static func section(_ markdown: String) -> [String: any Sendable] {
        ["type": "section", "text": ["type": "mrkdwn", "text": markdown.fitted(to: Limit.sectionText)]]
    }

    private static func context(_ markdown: String) -> [String: any Sendable] {
        ["type": "context", "elements": [["type": "mrkdwn", "text": markdown.fitted(to: Limit.sectionText)]]]
    }

    /// A field shows "—" for a tag the event does not have.
    private static func field(_ name: String, _ value: String?) -> [String: any Sendable] {
        let shown = value.map { $0.isEmpty ? "—" : $0.slackFitted(to: Limit.fieldText - 300) } ?? "—"
        return ["type": "mrkdwn", "text": "*\(name.slackFitted(to: 200))*\n\(shown)"]
    }

    private static func plain(_ text: String, limit: Int) -> [String: any Sendable] {
        ["type": "plain_text", "text": text.fitted(to: limit), "emoji": true]
    }

    /// Slack shows the date in each reader's own time zone; the fallback is UTC.
    private static func date(_ date: Date) -> String {
        "<!date^\(Int(saturating: date.timeIntervalSince1970))^{date_short_pretty} at {time}|\(Timestamp.text(date))>"
    }

    private static func footer(_ alert: AlertMessage) -> String {
        let rules = alert.rules.joined(separator: ", ").slackFitted(to: 2_000)
        return "\(alert.rules.count == 1 ? "Rule" : "Rules"): \(rules) · \(alert.shortID.slackFitted(to: 200)) · Herald"
    }

    /// Resolve (or Unresolve), Ignore (or Stop ignoring), Assign and Acknowledge. Each value is
    /// `<issue id>:<action>`.
    private static func actions(_ alert: AlertMessage) -> [String: any Sendable] {
        let issue = alert.issueID
        func button(_ label: String, _ action: IssueAction, style: String? = nil) -> [String: any Sendable] {
            var button: [String: any Sendable] = [
                "type": "button", "action_id": action.family, "text": plain(label, limit: Limit.buttonText),
                "value": action.value(issue: issue),
            ]
            button["style"] = style
            return button
        }
        func option(_ label: String, _ action: IssueAction) -> [String: any Sendable]? {
            let value = action.value(issue: issue)
            guard value.utf16.count <= Limit.optionValue else { return nil }
            return ["text": plain(label, limit: Limit.optionText), "value": value]
        }
        var elements: [[String: any Sendable]] = []
        elements.append(alert.status == .resolved
            ? button("Unresolve", .unresolve) : button("Resolve", .resolve, style: "primary"))
        if alert.status == .ignored {
            var stop = button("Stop ignoring", .unresolve)
            stop["action_id"] = "unignore"
            elements.append(stop)
        } else {
            elements.append([
                "type": "static_select", "action_id": "ignore", "placeholder": plain("Ignore…", limit: 150),
                "options": IssueAction.ignoreMenu.compactMap { option($0.label, .ignore($0.choice)) },
            ])
        }
        var people = alert.assignees.compactMap { option($0.name, .assign(email: $0.email)) }
        if alert.assignee != nil { people.insert(option("Unassign", .unassign)!, at: 0) }
        if !people.isEmpty {
            elements.append([
                "type": "static_select", "action_id": "assign", "placeholder": plain("Assign…", limit: 150),
                "options": Array(people.prefix(Limit.options)),
            ])
        }
        elements.append(button("Acknowledge", .acknowledge))
        if alert.status != .resolved, let next = option("Resolve in the next release", .resolveInNextRelease) {
            elements.append(["type": "overflow", "action_id": "more", "options": [next]])
        }
        return ["type": "actions", "block_id": "herald:\(issue)", "elements": elements]
    }
}
