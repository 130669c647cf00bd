import Foundation
import HeraldCore

/// What the engine knows about an event besides the event itself: its issue, the time, and the counters.
public struct EvaluationContext {
    /// The slug of the project the event was sent to.
    public var project: String
    public var issue: IssueFacts
    public var now: Date
    /// The project's most recent release, for the `latest_release` filter.
    public var latestRelease: String?
    /// Asked only for rules whose every cheaper condition already passed.
    public var counts: any IssueCounts

    public init(project: String, issue: IssueFacts, now: Date, latestRelease: String? = nil, counts: any IssueCounts) {
        self.project = project
        self.issue = issue
        self.now = now
        self.latestRelease = latestRelease
        self.counts = counts
    }
}

public enum CountMetric: String, Sendable, Hashable, CaseIterable {
    /// Events of the issue.
    case events
    /// Distinct users among the issue's events.
    case users
}

/// The issue's counters in time windows, as the store keeps them.
public protocol IssueCounts {
    /// How many events (or distinct users) the issue had in `window`, ending now or, with `shift`, ending that
    /// long ago.
    func count(_ metric: CountMetric, in window: Interval, endingAgo shift: Interval?) -> Int
}

/// Counts given up front: what `herald explain` reads from its input, and what tests use.
public struct FixedCounts: IssueCounts, Sendable {
    public struct Key: Hashable, Sendable {
        public var metric: CountMetric
        public var window: Interval
        public var shift: Interval?
        public init(_ metric: CountMetric, _ window: Interval, endingAgo shift: Interval? = nil) {
            self.metric = metric
            self.window = window
            self.shift = shift
        }
    }

    /// The counts given; a window not given counts 0.
    public var values: [Key: Int]

    public init(_ values: [Key: Int] = [:]) {
        self.values = values
    }

    public func count(_ metric: CountMetric, in window: Interval, endingAgo shift: Interval?) -> Int {
        values[Key(metric, window, endingAgo: shift)] ?? 0
    }
}
