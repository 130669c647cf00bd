import Foundation
import GRDB
import HeraldCore
import HeraldRules

extension Store {
    /// Writes a batch of events in one transaction: each event's issue update, counters, rule firings and
    /// outbox rows, so a crash leaves every event of the batch either complete or absent.
    ///
    /// Every event is evaluated against `engine` alone, so a reload between batches never splits one.
    /// One event failing rolls back only that event (a savepoint each). An event that would open a new issue
    /// takes a token from its project's bucket in `newIssues` first; without one it is refused, unwritten.
    public func ingest(
        _ batch: [IncomingEvent], engine: RuleEngine, newIssues: TokenBuckets<Int>? = nil, now: Date = Date()
    ) async throws -> [IngestOutcome] {
        let eventsPerIssue = configuration.eventsPerIssue
        return try await pool.write { db in
            var writer = IngestWriter(
                db: db, engine: engine, now: now, eventsPerIssue: eventsPerIssue, newIssues: newIssues)
            return batch.map { incoming -> IngestOutcome in
                do {
                    var outcome: IngestOutcome?
                    try db.inSavepoint {
                        outcome = try writer.write(incoming)
                        return .commit
                    }
                    return outcome!
                } catch {
                    writer.forgetRolledBackState(of: incoming)
                    return .failed(eventID: incoming.eventID, reason: String(describing: error))
                }
            }
        }
    }
}

/// The per-event steps of `Store.ingest`, inside its transaction.
private struct IngestWriter {
    let db: Database
    let engine: RuleEngine
    let now: Date
    let eventsPerIssue: Int
    let newIssues: TokenBuckets<Int>?
    /// Each project's latest release, once read in this batch.
    private var latestReleases: [Int: String?] = [:]
    /// Whether the event being written took a new-issue token.
    private var tookToken = false

    init(db: Database, engine: RuleEngine, now: Date, eventsPerIssue: Int, newIssues: TokenBuckets<Int>?) {
        self.db = db
        self.engine = engine
        self.now = now
        self.eventsPerIssue = eventsPerIssue
        self.newIssues = newIssues
    }

    private var nowSeconds: Double { now.timeIntervalSince1970 }

    /// After a rolled-back event, what this writer remembers may describe rows that are gone, and the issue
    /// it would have opened was not opened.
    mutating func forgetRolledBackState(of incoming: IncomingEvent) {
        latestReleases = [:]
        if tookToken { newIssues?.giveBack(incoming.projectID) }
        tookToken = false
    }

    mutating func write(_ incoming: IncomingEvent) throws -> IngestOutcome {
        let event = incoming.event
        if try Row.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM events WHERE project_id = ? AND event_id = ?"),
            arguments: [incoming.projectID, incoming.eventID]) != nil
        {
            return .duplicate(eventID: incoming.eventID)
        }
        let existing = try IssueRow.fetchOne(db, IssueRow.byFingerprint, [incoming.projectID, incoming.grouping.hash])
        tookToken = false
        if existing == nil, let newIssues {
            if let wait = newIssues.take(incoming.projectID, now: now) {
                return .rateLimited(eventID: incoming.eventID, projectID: incoming.projectID, retryAfter: wait)
            }
            tookToken = true
        }
        let latestRelease = try recordRelease(of: incoming)
        let userKey = event.userKey
        let (updated, state) = try issueAfter(incoming, existing: existing)
        var issue = updated
        if let userKey, try isNewUser(userKey, issue: issue.id) { issue.usersSeen += 1 }
        try save(issue)
        let eventRowID = try insertEvent(incoming, issue: issue.id, userKey: userKey)
        try count(issue: issue.id, userKey: userKey)

        var result = StoredEventResult(
            eventID: incoming.eventID, issueID: issue.id, shortID: issue.shortID,
            state: state, matchedRules: 0, firedRules: [], deliveries: 0, evaluationTime: .zero)
        if let state {
            try fire(incoming, issue: issue, state: state, eventRowID: eventRowID, latestRelease: latestRelease,
                     result: &result)
        }
        if issue.timesSeen > eventsPerIssue { try pruneEvents(issue: issue.id) }
        return .stored(result)
    }

    // MARK: Issue

    /// The event's issue as this event leaves it, and the transition that gives triggers their facts (nil
    /// when the issue stays resolved or ignored). `IssueLifecycle` decides; this only reads and creates rows.
    private func issueAfter(_ incoming: IncomingEvent, existing: Issue?) throws -> (Issue, IssueState?) {
        guard let issue = existing else {
            return (try createIssue(incoming), .new)
        }
        let event = incoming.event
        return IssueLifecycle.eventArrived(at: issue, level: event.level, release: event.release, now: now)
    }

    private func createIssue(_ incoming: IncomingEvent) throws -> Issue {
        guard let number = try Int.fetchOne(
            db.cachedStatement(sql: """
                UPDATE projects SET next_issue_number = next_issue_number + 1 WHERE id = ?
                RETURNING next_issue_number - 1
                """),
            arguments: [incoming.projectID])
        else {
            throw StoreError.unknownProject(incoming.projectID)
        }
        let issue = IssueLifecycle.opened(
            by: incoming.event, id: 0, projectID: incoming.projectID, number: number, projectSlug: incoming.projectSlug,
            fingerprint: incoming.grouping.hash, now: now)
        try db.cachedStatement(sql: """
            INSERT INTO issues (project_id, number, fingerprint, grouping, title, culprit, level, status, substatus,
                                first_seen, last_seen, times_seen, users_seen, last_release)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                issue.projectID, issue.number, issue.fingerprint, incoming.grouping.components.joined(separator: "\n"),
                issue.title, issue.culprit, issue.level.name, issue.status.rawValue, issue.substatus.rawValue,
                nowSeconds, nowSeconds, issue.timesSeen, issue.usersSeen, issue.lastRelease,
            ])
        var created = issue
        created.id = db.lastInsertedRowID
        return created
    }

    private func save(_ issue: Issue) throws {
        try Store.save(issue, db)
    }

    private func isNewUser(_ userKey: String, issue: Int64) throws -> Bool {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO issue_users (issue_id, user_key) VALUES (?, ?)")
            .execute(arguments: [issue, userKey])
        return db.changesCount == 1
    }

    /// Records the event's release; returns the project's latest release, which a never-seen release becomes.
    private mutating func recordRelease(of incoming: IncomingEvent) throws -> String? {
        let project = incoming.projectID
        if let release = incoming.event.release, !release.isEmpty, latestReleases[project] != .some(release) {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO releases (project_id, version, first_seen) VALUES (?, ?, ?)")
                .execute(arguments: [project, release, nowSeconds])
            if db.changesCount == 1 {
                try db.cachedStatement(sql: "UPDATE projects SET latest_release = ? WHERE id = ?")
                    .execute(arguments: [release, project])
                latestReleases[project] = .some(release)
                return release
            }
        }
        if let known = latestReleases[project] { return known }
        let latest = try String.fetchOne(
            db.cachedStatement(sql: "SELECT latest_release FROM projects WHERE id = ?"), arguments: [project])
        latestReleases[project] = .some(latest)
        return latest
    }

    // MARK: Event and counters

    private func insertEvent(_ incoming: IncomingEvent, issue: Int64, userKey: String?) throws -> Int64 {
        let event = incoming.event
        try db.cachedStatement(sql: """
            INSERT INTO events (project_id, issue_id, event_id, received_at, timestamp, level, title, environment,
                                release, user_key, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                incoming.projectID, issue, incoming.eventID, nowSeconds, event.timestamp?.timeIntervalSince1970,
                event.level.name, event.title, event.environment, event.release, userKey, incoming.payload,
            ])
        return db.lastInsertedRowID
    }

    private func count(issue: Int64, userKey: String?) throws {
        let buckets = CounterBuckets.buckets(at: nowSeconds)
        try db.cachedStatement(sql: """
            INSERT INTO issue_counts (issue_id, resolution, bucket, events) VALUES (?, ?, ?, 1), (?, ?, ?, 1), (?, ?, ?, 1)
            ON CONFLICT (issue_id, resolution, bucket) DO UPDATE SET events = events + 1
            """).execute(arguments: bucketArguments(issue: issue, buckets: buckets))
        guard let userKey else { return }
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO issue_bucket_users (issue_id, resolution, bucket, user_key)
            VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)
            """).execute(arguments: bucketArguments(issue: issue, buckets: buckets, userKey: userKey))
    }

    private func bucketArguments(
        issue: Int64, buckets: [(CounterBuckets.Resolution, Int)], userKey: String? = nil
    ) -> StatementArguments {
        var values: [(any DatabaseValueConvertible)?] = []
        for (resolution, bucket) in buckets {
            values += [issue, resolution.rawValue, bucket]
            if let userKey { values.append(userKey) }
        }
        return StatementArguments(values)
    }

    /// Keeps the newest `eventsPerIssue` events of the issue, and any older one an unsent delivery needs.
    private func pruneEvents(issue: Int64) throws {
        try db.cachedStatement(sql: """
            DELETE FROM events WHERE issue_id = ?
            AND id <= (SELECT id FROM events WHERE issue_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
            AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.event_row_id = events.id
                            AND outbox.status IN ('pending', 'retrying'))
            """).execute(arguments: [issue, issue, eventsPerIssue])
    }

    // MARK: Rules

    /// Evaluates the rules, claims each matching rule's action interval for this issue, records the firings
    /// and writes the outbox rows of the rules that fired.
    private func fire(
        _ incoming: IncomingEvent, issue: Issue, state: IssueState, eventRowID: Int64, latestRelease: String?,
        result: inout StoredEventResult
    ) throws {
        let counts = StoreCounts(db: db, issue: issue.id, now: nowSeconds)
        let facts = IssueFacts(state: state, timesSeen: issue.timesSeen, firstSeen: issue.firstSeen, assignee: issue.assignee)
        let context = EvaluationContext(
            project: incoming.projectSlug, issue: facts, now: now, latestRelease: latestRelease, counts: counts)
        let clock = ContinuousClock()
        let started = clock.now
        let evaluation = engine.evaluate(incoming.event, context: context)
        result.evaluationTime = clock.now - started
        if let failure = counts.failure { throw failure }
        result.matchedRules = evaluation.matched.count
        guard !evaluation.matched.isEmpty else { return }

        let fired = try evaluation.matched.filter { try claim($0, project: incoming.projectID, issue: issue.id) }
        guard !fired.isEmpty else { return }
        for rule in fired {
            try db.cachedStatement(sql: """
                INSERT INTO rule_firings (project_id, rule, issue_id, event_row_id, event_id, fired_at, state, rule_set_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    incoming.projectID, rule.name, issue.id, eventRowID, incoming.eventID, nowSeconds, state.rawValue,
                    engine.ruleSet.version,
                ])
        }
        let deliveries = fired.count == evaluation.matched.count
            ? evaluation.deliveries : RuleEngine.deliveries(for: fired, event: incoming.event)
        for delivery in deliveries {
            var row = OutboxRecord(
                projectID: incoming.projectID, issueID: issue.id, eventRowID: eventRowID, eventID: incoming.eventID,
                kind: delivery.kind, target: delivery.target, channel: delivery.channel,
                channelTemplate: delivery.channelTemplate, rules: delivery.rules, tags: delivery.tags,
                notes: delivery.notes, problem: delivery.problem, now: now)
            try row.insert(db)
        }
        result.firedRules = fired.map(\.name)
        result.deliveries = deliveries.count
    }

    /// Takes the rule's action interval for the issue unless it fired for the issue less than that long ago.
    /// The check and the update share the ingest transaction, so two events can never both take it.
    private func claim(_ rule: Rule, project: Int, issue: Int64) throws -> Bool {
        let last = try Double.fetchOne(
            db.cachedStatement(sql: "SELECT fired_at FROM rule_claims WHERE project_id = ? AND rule = ? AND issue_id = ?"),
            arguments: [project, rule.name, issue])
        if let last, nowSeconds - last < Double(rule.actionInterval.seconds) { return false }
        try db.cachedStatement(sql: """
            INSERT INTO rule_claims (project_id, rule, issue_id, fired_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (project_id, rule, issue_id) DO UPDATE SET fired_at = excluded.fired_at
            """).execute(arguments: [project, rule.name, issue, nowSeconds])
        return true
    }
}

/// The issue's counters read inside the ingest transaction, so they include the event being evaluated.
///
/// The engine's protocol cannot throw; a failed read is kept and rethrown after the evaluation, which rolls
/// the event back instead of letting a rule see a wrong count.
final class StoreCounts: IssueCounts {
    let db: Database
    let issue: Int64
    let now: Double
    private(set) var failure: (any Error)?

    init(db: Database, issue: Int64, now: Double) {
        self.db = db
        self.issue = issue
        self.now = now
    }

    func count(_ metric: CountMetric, in window: Interval, endingAgo shift: Interval?) -> Int {
        let end = now - Double(shift?.span.seconds ?? 0)
        let spans = CounterBuckets.cover(windowMinutes: window.span.seconds / 60, endingAt: end)
        do {
            return try count(metric, spans: spans)
        } catch {
            failure = failure ?? error
            return 0
        }
    }

    private func count(_ metric: CountMetric, spans: [CounterBuckets.Span]) throws -> Int {
        var values: [(any DatabaseValueConvertible)?] = []
        for span in spans { values += [issue, span.resolution.rawValue, span.first, span.last] }
        let arguments = StatementArguments(values)
        let range = "issue_id = ? AND resolution = ? AND bucket BETWEEN ? AND ?"
        let sql: String
        switch metric {
        case .events:
            let terms = Array(repeating: "(\(range))", count: spans.count).joined(separator: " OR ")
            sql = "SELECT COALESCE(SUM(events), 0) FROM issue_counts WHERE \(terms)"
        case .users:
            let selects = Array(repeating: "SELECT user_key FROM issue_bucket_users WHERE \(range)", count: spans.count)
            sql = "SELECT COUNT(DISTINCT user_key) FROM (\(selects.joined(separator: " UNION ALL ")))"
        }
        return try Int.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) ?? 0
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case unknownProject(Int)
    case unknownIssue(String)
    /// A query's rows lack a column a record reads: a schema older than the code.
    case missingColumn(String)

    public var description: String {
        switch self {
        case .unknownProject(let id): "project \(id) is not in the database"
        case .unknownIssue(let id): "no issue \(id)"
        case .missingColumn(let name): "the database has no column '\(name)' where Herald expects one"
        }
    }
}
