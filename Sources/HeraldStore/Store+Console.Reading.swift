import Foundation
import GRDB
import HeraldCore
import HeraldRules

/// The width of the buckets of an events-over-time series.
public enum SeriesStep: Sendable {
    case hour, day

    var resolution: CounterBuckets.Resolution { self == .hour ? .hour : .day }
    public var seconds: Int { resolution.seconds }
}

/// One bucket of an events-over-time series.
public struct SeriesPoint: Sendable, Hashable {
    public var start: Date
    public var events: Int
}

extension Store {
    /// The issue's events per hour or per day in the `count` buckets ending with the one holding `end`, oldest
    /// first, read from the counters ingestion keeps (so they count every event, not only the stored ones).
    public func eventSeries(issue: Int64, step: SeriesStep, count: Int, endingAt end: Date = Date()) async throws
        -> [SeriesPoint]
    {
        let resolution = step.resolution
        let last = CounterBuckets.floorDiv(Int(end.timeIntervalSince1970.rounded(.down)), resolution.seconds)
        let first = last - max(1, count) + 1
        let counts = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT bucket, events FROM issue_counts WHERE issue_id = ? AND resolution = ? AND bucket BETWEEN ? AND ?",
                arguments: [issue, resolution.rawValue, first, last]
            ).reduce(into: [Int: Int]()) { $0[$1["bucket"]] = $1["events"] }
        }
        return (first...last).map { bucket in
            SeriesPoint(
                start: Date(timeIntervalSince1970: Double(bucket) * Double(resolution.seconds)), events: counts[bucket] ?? 0)
        }
    }

    /// How often each rule fired since `since`, by project id and rule name.
    public func firingCounts(since: Date) async throws -> [RuleKey: Int] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT project_id, rule, COUNT(*) AS n FROM rule_firings WHERE fired_at >= ? GROUP BY project_id, rule",
                arguments: [since.timeIntervalSince1970]
            ).reduce(into: [RuleKey: Int]()) { $0[RuleKey(projectID: $1["project_id"], rule: $1["rule"])] = $1["n"] }
        }
    }

    /// The environments of stored events, most frequent first: the choices of the issue list's filter.
    public func environments(limit: Int = 50) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT environment FROM events WHERE environment IS NOT NULL
                    GROUP BY environment ORDER BY COUNT(*) DESC LIMIT ?
                    """,
                arguments: [limit])
        }
    }

    /// Runs `explain` for a stored event of `issue` as things stood at `at`: the issue's counters up to that
    /// instant and the transition `state`, against `engine` (the running rules, which may be newer than those
    /// that saw the event).
    public func explain(
        _ event: Event, project: String, issue: Issue, state: IssueState, at: Date, engine: RuleEngine
    ) async throws -> Explanation {
        try await pool.read { db in
            let latestRelease = try String.fetchOne(
                db, sql: "SELECT latest_release FROM projects WHERE id = ?", arguments: [issue.projectID])
            let counts = StoreCounts(db: db, issue: issue.id, now: at.timeIntervalSince1970)
            let facts = IssueFacts(state: state, timesSeen: issue.timesSeen, firstSeen: issue.firstSeen, assignee: issue.assignee)
            let context = EvaluationContext(project: project, issue: facts, now: at, latestRelease: latestRelease, counts: counts)
            let explanation = engine.explain(event, context: context)
            if let failure = counts.failure { throw failure }
            return explanation
        }
    }

    /// Puts a failed or given-up delivery back in line for one more attempt now; what "retry now" does.
    /// Answers false when the row is not failed or dead (it may have been retried already).
    public func retryNow(delivery id: Int64, now: Date = Date()) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET status = 'retrying', next_attempt_at = ?, updated_at = ?
                    WHERE id = ? AND status IN ('failed', 'dead')
                    """,
                arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, id])
            return db.changesCount == 1
        }
    }

    /// One outbox row.
    public func delivery(id: Int64) async throws -> OutboxRecord? {
        try await pool.read { db in try OutboxRecord.fetchOne(db, key: id) }
    }
}

/// A rule by the project it belongs to and its name.
public struct RuleKey: Sendable, Hashable {
    public var projectID: Int
    public var rule: String

    public init(projectID: Int, rule: String) {
        self.projectID = projectID
        self.rule = rule
    }
}

extension Store {
    /// How many outbox rows are in each status.
    public func deliveryCounts() async throws -> [DeliveryStatus: Int] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
                .reduce(into: [DeliveryStatus: Int]()) { counts, row in
                    if let status = DeliveryStatus(rawValue: row["status"]) { counts[status] = row["n"] }
                }
        }
    }
}
