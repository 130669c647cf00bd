import Foundation
import HeraldCore

/// A Mattermost message: one Slack-style attachment carrying the alert, with interactive buttons whose
/// signed context points back at Herald.
public struct MattermostMessage: Sendable {
    public var text: String
    public var attachment: [String: any Sendable]

    /// Mattermost's attachment footer limit.
    public static let footerLimit = 300
    /// Keeps a post well inside Mattermost's 16,383-character message limit.
    static let textLimit = 6_000

    public init(text: String, attachment: [String: any Sendable]) {
        self.text = text
        self.attachment = attachment
    }

    /// The full alert. `actionsURL` is where Mattermost sends clicks (`<public_url>/mattermost/actions`); the
    /// buttons are left out when there is no signer: an incoming webhook's post cannot carry them, as Herald
    /// never learns its id and so cannot bind a click to it.
    public static func alert(
        _ alert: AlertMessage, actionsURL: String, signer: ButtonSigner?, connector: String, now: Date = Date()
    ) -> MattermostMessage {
        var body: [String] = []
        if let culprit = alert.culprit { body.append("`\(culprit.fitted(to: 500))`") }
        if let excerpt = alert.excerpt, !alert.title.contains(excerpt) {
            body.append("```\n\(excerpt.replacingOccurrences(of: "```", with: "'''").fitted(to: 2_000))\n```")
        }
        if let state = alert.stateSummary { body.append("**\(state.fitted(to: 500))**") }
        body.append("**Events:** \(alert.events) · **Users:** \(alert.users) · **First seen:** \(Timestamp.text(alert.firstSeen))")
        if !alert.notes.isEmpty { body.append(":memo: " + alert.notes.joined(separator: "\n").fitted(to: 2_000)) }

        var fields: [[String: any Sendable]] = [
            field("Project", alert.project), field("Environment", alert.environment), field("Release", alert.release),
        ]
        fields += alert.tags.map { field($0.key, $0.value) }
        let rules = alert.rules.joined(separator: ", ")
        var attachment: [String: any Sendable] = [
            "fallback": alert.fallbackText.fitted(to: 1_000),
            "color": alert.level.color,
            "title": "\(alert.level.emoji) \(alert.title)".fitted(to: 1_000),
            "title_link": alert.url,
            "text": body.joined(separator: "\n").fitted(to: textLimit),
            "fields": fields,
            "footer": "\(alert.rules.count == 1 ? "Rule" : "Rules"): \(rules) · \(alert.shortID) · Herald"
                .fitted(to: footerLimit),
        ]
        if alert.isTest { attachment["pretext"] = ":test_tube: Test notification sent by `herald notify-test`" }
        if let signer { attachment["actions"] = actions(alert, url: actionsURL, signer: signer, connector: connector, now: now) }
        return MattermostMessage(text: alert.fallbackText, attachment: attachment)
    }

    /// A thread reply for a repeat firing.
    public static func reply(_ alert: AlertMessage) -> MattermostMessage {
        var attachment: [String: any Sendable] = [
            "fallback": "Fired again: \(alert.fallbackText)".fitted(to: 1_000),
            "color": alert.level.color,
            "text": "Fired again: **\(alert.rules.joined(separator: ", ").fitted(to: 1_000))** — event `\(alert.eventID)`\n"
                + "**Events:** \(alert.events) · **Users:** \(alert.users)",
        ]
        if !alert.tags.isEmpty { attachment["fields"] = alert.tags.map { field($0.key, $0.value) } }
        return MattermostMessage(text: "Fired again: \(alert.fallbackText)", attachment: attachment)
    }

    /// A thread reply recording what someone did.
    public static func note(_ text: String) -> MattermostMessage {
        MattermostMessage(text: text, attachment: ["fallback": text.fitted(to: 1_000), "text": ":memo: " + text.fitted(to: textLimit)])
    }

    /// The bot API's `POST /api/v4/posts` body.
    public func postBody(channelID: String, rootID: String? = nil) -> [UInt8] {
        var body: [String: any Sendable] = [
            "channel_id": channelID, "message": "", "props": ["attachments": [attachment]] as [String: any Sendable],
        ]
        body["root_id"] = rootID
        return Array(JSONWriter.text(body).utf8)
    }

    /// The `PUT /api/v4/posts/<id>/patch` body: only the attachment changes.
    public func patchBody() -> [UInt8] {
        Array(JSONWriter.text(["message": "", "props": ["attachments": [attachment]] as [String: any Sendable]]).utf8)
    }

    /// An incoming webhook's body; `channel` overrides the hook's own channel.
    public func webhookBody(channel: String?) -> [UInt8] {
        var body: [String: any Sendable] = ["attachments": [attachment], "username": "Herald"]
        body["channel"] = channel.map(MattermostClient.channelName)
        return Array(JSONWriter.text(body).utf8)
    }

    private static func field(_ title: String, _ value: String?) -> [String: any Sendable] {
        ["title": title.fitted(to: 200), "value": (value.flatMap { $0.isEmpty ? nil : $0 } ?? "—").fitted(to: 1_000),
         "short": true]
    }

    /// The menus on an alert's post, each with the choices it offers: the choice a click brings is checked
    /// against them, since Mattermost sends it beside the signed context, not inside it.
    public static func menus(_ alert: AlertMessage) -> [Menu] {
        var menus: [Menu] = []
        if alert.status != .ignored {
            menus.append(Menu(id: "ignore", label: "Ignore…", family: "ignore",
                              options: IssueAction.ignoreMenu.map { ($0.label, .ignore($0.choice)) }))
        }
        var people = alert.assignees.map { ($0.name, IssueAction.assign(email: $0.email)) }
        if alert.assignee != nil { people.insert(("Unassign", .unassign), at: 0) }
        if !people.isEmpty { menus.append(Menu(id: "assign", label: "Assign…", family: "assign", options: people)) }
        return menus
    }

    /// A select on the post: its action id, its label, the family its context signs and its choices.
    public struct Menu: Sendable {
        public var id: String
        public var label: String
        public var family: String
        public var options: [(label: String, action: IssueAction)]

        /// Whether `choice` is one this menu offers.
        public func offers(_ choice: IssueAction) -> Bool {
            options.contains { $0.action == choice }
        }
    }

    /// Buttons and menus whose context holds the issue, the action, the stamp of this rendering and their
    /// signature. Action ids may hold letters and digits only.
    private static func actions(
        _ alert: AlertMessage, url: String, signer: ButtonSigner, connector: String, now: Date
    ) -> [[String: any Sendable]] {
        let issue = alert.issueID
        let stamp = signer.stamp(now: now)
        func integration(_ action: String, family: String) -> [String: any Sendable] {
            ["url": url, "context": [
                "issue_id": issue, "action": action, "connector": connector, "expires": stamp.expires,
                "nonce": stamp.nonce,
                "signature": signer.signature(issue: issue, family: family, connector: connector, stamp: stamp),
            ] as [String: any Sendable]]
        }
        func button(_ id: String, _ label: String, _ action: IssueAction, style: String? = nil) -> [String: any Sendable] {
            var button: [String: any Sendable] = [
                "id": id, "type": "button", "name": label,
                "integration": integration(action.description, family: action.family),
            ]
            button["style"] = style
            return button
        }
        let menus = Dictionary(menus(alert).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func menu(_ id: String) -> [String: any Sendable]? {
            menus[id].map { menu in
                ["id": menu.id, "type": "select", "name": menu.label,
                 "options": menu.options.map { ["text": $0.label.fitted(to: 75), "value": $0.action.description] as [String: any Sendable] },
                 "integration": integration(menu.family, family: menu.family)]
            }
        }
        var actions: [[String: any Sendable]] = []
        actions.append(alert.status == .resolved
            ? button("unresolve", "Unresolve", .unresolve) : button("resolve", "Resolve", .resolve, style: "primary"))
        if alert.status == .ignored { actions.append(button("unignore", "Stop ignoring", .unresolve)) }
        actions += [menu("ignore"), menu("assign")].compactMap { $0 }
        actions.append(button("ack", "Acknowledge", .acknowledge))
        if alert.status != .resolved { actions.append(button("resolvenext", "Resolve in next release", .resolveInNextRelease)) }
        return actions
    }
}
