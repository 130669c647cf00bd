import Foundation

/// What the issue an event belongs to looked like when the event arrived: the facts triggers and issue
/// filters read. The store produces these; `herald explain` reads them from its input.
public struct IssueFacts: Sendable, Hashable {
    public var state: IssueState
    public var timesSeen: Int
    public var firstSeen: Date
    public var assignee: Assignee?

    public init(state: IssueState, timesSeen: Int, firstSeen: Date, assignee: Assignee? = nil) {
        self.state = state
        self.timesSeen = timesSeen
        self.firstSeen = firstSeen
        self.assignee = assignee
    }
}

/// How this event changed its issue, which decides the state triggers.
public enum IssueState: String, Sendable, Hashable, CaseIterable {
    /// The event created the issue.
    case new
    /// The issue was resolved and this event made it unresolved again.
    case regression
    /// The issue was ignored, its ignore condition lapsed, and this event made it unresolved again.
    case reappeared
    /// The issue was already unresolved.
    case ongoing
}

/// Who an issue is assigned to.
public enum Assignee: Sendable, Hashable, CustomStringConvertible {
    case user(email: String)
    case team(String)

    public var description: String {
        switch self {
        case .user(let email): email
        case .team(let name): "team:\(name)"
        }
    }
}
