import Foundation
import HeraldCore

/// A condition on the event or its issue that must hold for a rule to fire: an `if` entry.
public enum Filter: Hashable, Sendable, CustomStringConvertible {
    case level(Comparison, Level)
    /// A test of the event's tag `key` (keys compare case-insensitively).
    case tag(key: String, ValueMatch)
    case attribute(EventAttribute, ValueMatch)
    /// How long ago the issue was first seen.
    case age(AgeComparison, TimeSpan)
    /// The issue has been seen at least this many times.
    case occurrences(atLeast: Int)
    case assignedTo(AssigneeMatch)
    /// The event's release is the project's latest release.
    case latestRelease

    public static let names = ["level", "tag", "attribute", "age", "occurrences", "assigned_to", "latest_release"]

    public var description: String {
        switch self {
        case .level(let comparison, let level): "level \(comparison.rawValue) \(level.name)"
        case .tag(let key, let match): "tag \(key) \(match)"
        case .attribute(let attribute, let match): "attribute \(attribute) \(match)"
        case .age(let comparison, let span): "age \(comparison.rawValue) \(span)"
        case .occurrences(let count): "occurrences gte \(count)"
        case .assignedTo(let match): "assigned_to \(match)"
        case .latestRelease: "latest_release"
        }
    }
}

/// How a level filter compares the event's level with its own.
public enum Comparison: String, Sendable, Hashable, CaseIterable {
    case eq, ne, gt, gte, lt, lte

    public static let names: [String] = allCases.map(\.rawValue)

    public func compare<T: Comparable>(_ actual: T, _ expected: T) -> Bool {
        switch self {
        case .eq: actual == expected
        case .ne: actual != expected
        case .gt: actual > expected
        case .gte: actual >= expected
        case .lt: actual < expected
        case .lte: actual <= expected
        }
    }
}

public enum AgeComparison: String, Sendable, Hashable, CaseIterable {
    case olderThan = "older_than"
    case newerThan = "newer_than"
}

public enum AssigneeMatch: Hashable, Sendable, CustomStringConvertible {
    case unassigned
    case user(email: String)
    case team(String)

    public func test(_ assignee: Assignee?) -> Bool {
        switch (self, assignee) {
        case (.unassigned, nil): true
        case (.user(let expected), .user(let actual)?): expected.equalsIgnoringCase(actual)
        case (.team(let expected), .team(let actual)?): expected.equalsIgnoringCase(actual)
        default: false
        }
    }

    public var description: String {
        switch self {
        case .unassigned: "unassigned"
        case .user(let email): "user \(email)"
        case .team(let name): "team \(name)"
        }
    }
}
