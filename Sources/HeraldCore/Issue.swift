import Foundation

/// A group of events from one code path of one project, with the state people set on it.
public struct Issue: Sendable, Hashable {
    /// The store's row id; the id in admin-API URLs.
    public var id: Int64
    public var projectID: Int
    /// Counts the project's issues from 1.
    public var number: Int
    /// `PAYMENTS-12`: the project slug in capitals and a number counting the project's issues.
    public var shortID: String
    /// The grouping hash the issue is keyed by within its project.
    public var fingerprint: String
    public var title: String
    public var culprit: String?
    /// The level of the latest event.
    public var level: Level
    public var status: IssueStatus
    public var substatus: IssueSubstatus
    public var firstSeen: Date
    public var lastSeen: Date
    public var timesSeen: Int
    /// Distinct users among all the issue's events.
    public var usersSeen: Int
    /// The release of the latest event that named one.
    public var lastRelease: String?
    public var assignee: Assignee?
    /// Set while the issue is ignored.
    public var ignore: IgnoreCondition?
    /// Set while the issue is resolved.
    public var resolution: Resolution?
    /// When the issue last regressed; the `regressed` substatus lasts a week from then.
    public var regressedAt: Date?

    public init(
        id: Int64, projectID: Int, number: Int, shortID: String, fingerprint: String, title: String, culprit: String?,
        level: Level, status: IssueStatus, substatus: IssueSubstatus, firstSeen: Date, lastSeen: Date,
        timesSeen: Int, usersSeen: Int, lastRelease: String?, assignee: Assignee? = nil,
        ignore: IgnoreCondition? = nil, resolution: Resolution? = nil, regressedAt: Date? = nil
    ) {
        self.id = id
        self.projectID = projectID
        self.number = number
        self.shortID = shortID
        self.fingerprint = fingerprint
        self.title = title
        self.culprit = culprit
        self.level = level
        self.status = status
        self.substatus = substatus
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.timesSeen = timesSeen
        self.usersSeen = usersSeen
        self.lastRelease = lastRelease
        self.assignee = assignee
        self.ignore = ignore
        self.resolution = resolution
        self.regressedAt = regressedAt
    }
}

public enum IssueStatus: String, Sendable, Hashable, CaseIterable {
    case unresolved, resolved, ignored
}

/// Why an unresolved issue is unresolved, as Sentry shows it.
public enum IssueSubstatus: String, Sendable, Hashable, CaseIterable {
    /// Created less than a week ago.
    case new
    case ongoing
    /// Came back after being resolved, less than a week ago.
    case regressed
    /// Its ignore ran out (its time passed) and no event has come since; the next one fires `reappeared`.
    case reappeared

    /// How long `new` and `regressed` last before an issue counts as ongoing.
    public static let freshness: TimeInterval = 7 * 86_400
}

/// Until when an ignored issue stays quiet.
public enum IgnoreCondition: Sendable, Hashable {
    case forever
    case until(Date)
    /// Until `count` more events arrive; `baseline` is `timesSeen` when the issue was ignored.
    case untilMoreEvents(count: Int, baseline: Int)

    /// Whether the condition no longer holds once an issue has been seen `timesSeen` times, at `now`.
    public func hasLapsed(timesSeen: Int, now: Date) -> Bool {
        switch self {
        case .forever: false
        case .until(let date): now >= date
        case .untilMoreEvents(let count, let baseline): timesSeen - baseline >= count
        }
    }
}

/// How an issue was resolved.
public struct Resolution: Sendable, Hashable {
    public var at: Date
    /// "Resolved in next release": only an event from a release other than this one is a regression.
    public var inNextReleaseAfter: String?

    public init(at: Date, inNextReleaseAfter: String? = nil) {
        self.at = at
        self.inNextReleaseAfter = inNextReleaseAfter
    }

    /// Whether an event from `release` makes the issue regress.
    public func isRegression(release: String?) -> Bool {
        guard let recorded = inNextReleaseAfter else { return true }
        return release != nil && release != recorded
    }
}

extension Issue {
    /// `PAYMENTS-12` for issue 12 of project `payments`.
    public static func shortID(slug: String, number: Int) -> String { "\(slug.uppercased())-\(number)" }
}
