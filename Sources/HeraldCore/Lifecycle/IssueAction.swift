import Foundation

/// What a button or menu choice in an alert asks Herald to do to the issue.
///
/// Its text form (`resolve`, `ignore:1800s`, `ignore:10events`, `assign:alice@example.com`…) is what the
/// buttons carry, prefixed with the issue id (`42:resolve`), so a click names its issue and its action and
/// nothing else is needed to act on it.
public enum IssueAction: Sendable, Hashable, CustomStringConvertible {
    case resolve
    case resolveInNextRelease
    case unresolve
    case ignore(IgnoreChoice)
    case assign(email: String)
    case unassign
    case acknowledge

    /// How long an ignore lasts.
    public enum IgnoreChoice: Sendable, Hashable {
        case duration(seconds: Int)
        case moreEvents(Int)
        case forever
    }

    /// The longest an issue may be ignored for, in seconds (ten years), and the most events it may be ignored
    /// until: values from buttons, the admin API and the command line are checked against these where they
    /// are read, so no later arithmetic on them can overflow.
    public static let maxIgnoreSeconds = 10 * 365 * 86_400
    public static let maxIgnoreEvents = 1_000_000_000

    /// What the text form allows, for error messages.
    public static let spelledOut = "resolve, resolve_next_release, unresolve, ignore:<duration> (30m, 2h, 1d12h or 1800s; at most \(maxIgnoreSeconds / 86_400) days), "
        + "ignore:<count>events (1 to \(maxIgnoreEvents)), ignore:forever, assign:<email>, unassign or ack"

    /// The Ignore menu, in the order it is shown.
    public static let ignoreMenu: [(label: String, choice: IgnoreChoice)] = [
        ("for 30 minutes", .duration(seconds: 1_800)),
        ("for 2 hours", .duration(seconds: 7_200)),
        ("for 24 hours", .duration(seconds: 86_400)),
        ("until 10 more events", .moreEvents(10)),
        ("until 100 more events", .moreEvents(100)),
        ("forever", .forever),
    ]

    /// The text form, without the issue id.
    public var description: String {
        switch self {
        case .resolve: "resolve"
        case .resolveInNextRelease: "resolve_next_release"
        case .unresolve: "unresolve"
        case .ignore(.duration(let seconds)): "ignore:\(seconds)s"
        case .ignore(.moreEvents(let count)): "ignore:\(count)events"
        case .ignore(.forever): "ignore:forever"
        case .assign(let email): "assign:\(email)"
        case .unassign: "unassign"
        case .acknowledge: "ack"
        }
    }

    /// The action's family: what a Mattermost context signs, since a menu's choice arrives beside it.
    public var family: String {
        switch self {
        case .resolve, .resolveInNextRelease, .unresolve, .acknowledge: description
        case .ignore: "ignore"
        case .assign, .unassign: "assign"
        }
    }

    /// Reads the text form.
    public init?(_ text: String) {
        switch text {
        case "resolve": self = .resolve
        case "resolve_next_release": self = .resolveInNextRelease
        case "unresolve": self = .unresolve
        case "unassign": self = .unassign
        case "ack": self = .acknowledge
        case "ignore:forever": self = .ignore(.forever)
        case _ where text.hasPrefix("ignore:") && text.hasSuffix("events"):
            guard let count = Int(text.dropFirst(7).dropLast(6)), (1...Self.maxIgnoreEvents).contains(count) else {
                return nil
            }
            self = .ignore(.moreEvents(count))
        case _ where text.hasPrefix("ignore:"):
            // `ignore:1800s` as buttons carry it, and `ignore:30m`, `ignore:2h`, `ignore:1d12h` as people type.
            guard let seconds = SpokenDuration.seconds(String(text.dropFirst(7)), limit: Self.maxIgnoreSeconds) else {
                return nil
            }
            self = .ignore(.duration(seconds: seconds))
        case _ where text.hasPrefix("assign:") && text.count > 7:
            self = .assign(email: String(text.dropFirst(7)))
        default: return nil
        }
    }

    /// The value a Slack button or option carries: `<issue id>:<action>`.
    public func value(issue: Int64) -> String { "\(issue):\(self)" }

    /// The change the action makes to the issue; nil for an acknowledgement, which changes nothing but is
    /// recorded. An assignment names a user the caller has already checked.
    public var change: IssueChange? {
        switch self {
        case .resolve: .resolve(inNextRelease: false)
        case .resolveInNextRelease: .resolve(inNextRelease: true)
        case .unresolve: .unresolve
        case .ignore(.forever): .ignore(.forever)
        case .ignore(.duration(let seconds)): .ignore(.duration(TimeInterval(seconds)))
        case .ignore(.moreEvents(let count)): .ignore(.moreEvents(count))
        case .assign(let email): .assign(.user(email: email))
        case .unassign: .assign(nil)
        case .acknowledge: nil
        }
    }

    /// What the action did, as messages and the audit trail say it: "Resolved", "Ignored for 30 minutes",
    /// "Assigned to Bob". `assigneeName` is the assignee's name when Herald knows one.
    public func verb(assigneeName: String? = nil) -> String {
        switch self {
        case .resolve: "Resolved"
        case .resolveInNextRelease: "Resolved in the next release"
        case .unresolve: "Unresolved"
        case .ignore(.forever): "Ignored forever"
        case .ignore(.moreEvents(let count)): "Ignored until \(count) more events"
        case .ignore(.duration(let seconds)):
            "Ignored for " + (Self.ignoreMenu.first { $0.choice == .duration(seconds: seconds) }
                .map { String($0.label.dropFirst(4)) } ?? SpokenDuration.text(seconds))
        case .assign(let email): "Assigned to \(assigneeName ?? email)"
        case .unassign: "Unassigned"
        case .acknowledge: "Acknowledged"
        }
    }

    /// Reads a Slack button or option value.
    public static func parse(value: String) -> (issue: Int64, action: IssueAction)? {
        guard let colon = value.firstIndex(of: ":"), let issue = Int64(value[..<colon]),
            let action = IssueAction(String(value[value.index(after: colon)...]))
        else { return nil }
        return (issue, action)
    }
}
