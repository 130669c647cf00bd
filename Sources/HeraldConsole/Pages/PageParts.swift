import Foundation
import HeraldConfig
import HeraldCore

/// The person a page is rendered for, and what they may do.
public struct Viewer: Sendable {
    public var user: Config.User
    /// The token every form of the session carries.
    public var csrf: String

    public init(user: Config.User, csrf: String) {
        self.user = user
        self.csrf = csrf
    }

    public var name: String { user.name }
    public var role: String { user.role.rawValue }
    /// Admins and members act on issues and deliveries; stakeholders read.
    public var canAct: Bool { user.role != .stakeholder }
}

/// An instant as pages show it: ISO 8601 for `<time datetime>`, and a short UTC text for people.
struct Moment {
    var iso: String
    var text: String

    init(_ date: Date) {
        iso = Timestamp.text(date)
        // "2026-12-06T14:27:06.123Z" → "2026-12-06 14:27 UTC"
        text = iso.prefix(16).replacingOccurrences(of: "T", with: " ") + " UTC"
    }
}

/// One `<option>` of a `<select>`.
struct Choice {
    var value: String
    var label: String
    var selected: Bool = false
}

/// Which navigation entry is the current page.
struct Navigation {
    var issues = false
    var rules = false
    var deliveries = false
}

/// A row of a key/value table.
struct KeyValue {
    var key: String
    var value: String
}
