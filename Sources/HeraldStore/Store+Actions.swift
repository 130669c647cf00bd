import Foundation
import GRDB
import HeraldCore

/// Who acted on an issue, and from where.
public struct Actor: Sendable, Hashable {
    /// The Herald user's email; nil for the admin token, which names no one.
    public var email: String?
    public var name: String
    /// How people read the surface: "Slack", "Mattermost", "the admin API", "the command line".
    public var surface: String

    public init(email: String?, name: String, surface: String) {
        self.email = email
        self.name = name
        self.surface = surface
    }
}

/// One action a person took on an issue, as the audit trail keeps it.
public struct IssueActionRecord: Sendable, Hashable {
    public var issueID: Int64
    /// The action's text form (`resolve`, `ignore:1800s`, `assign:bob@example.com`, `ack`).
    public var action: String
    public var actor: Actor
    public var at: Date
    public var oldState: String
    public var newState: String
    /// What messages show: "Resolved by Alice via Slack".
    public var summary: String
}

/// What an action did.
public enum ActionOutcome: Sendable {
    /// The issue changed (or was acknowledged); the record was written and every message of the issue was
    /// queued for an update and a thread reply.
    case changed(Issue, IssueActionRecord)
    /// The issue already stood that way: nothing written, nothing posted.
    case unchanged(Issue)
    /// The same request (a retried callback) was already carried out.
    case duplicate(Issue)

    public var issue: Issue {
        switch self {
        case .changed(let issue, _), .unchanged(let issue), .duplicate(let issue): issue
        }
    }
}

extension Store {
    /// The one way people change issues, whatever the surface (Slack, Mattermost, the admin API, the command
    /// line). In one transaction: applies the change, writes the audit record, and queues, for every first
    /// message Herald posted for the issue, an update showing the new state and a thread reply recording the
    /// action. Delivery sends them like any outbox row.
    ///
    /// A change that leaves the issue as it was, an acknowledgement repeated by the same person, or a
    /// `requestKey` already seen (a retried callback) changes nothing and posts nothing.
    public func act(
        on issueID: Int64, _ change: IssueChange?, action: String, summary: String, actor: Actor,
        requestKey: String? = nil, now: Date = Date()
    ) async throws -> ActionOutcome {
        try await pool.write { db in
            guard let issue = try IssueRow.fetchOne(db, IssueRow.byID, [issueID]) else {
                throw StoreError.unknownIssue(String(issueID))
            }
            if let requestKey,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM issue_actions WHERE request_key = ?", arguments: [requestKey])
                    == true
            {
                return .duplicate(issue)
            }
            let changed = change.map { IssueLifecycle.applying($0, to: issue, now: now) } ?? issue
            if let change {
                guard IssueLifecycle.isChange(change, from: issue, to: changed) else { return .unchanged(issue) }
            } else {
                // An acknowledgement: once per person until something else happens to the issue.
                let last = try Row.fetchOne(
                    db, sql: "SELECT action, actor FROM issue_actions WHERE issue_id = ? ORDER BY id DESC LIMIT 1",
                    arguments: [issueID])
                if let last, last["action"] as String == action, last["actor"] as String == (actor.email ?? actor.name) {
                    return .unchanged(issue)
                }
            }
            if change != nil { try Self.save(changed, db) }
            let record = IssueActionRecord(
                issueID: issueID, action: action, actor: actor, at: now, oldState: issue.stateDescription,
                newState: changed.stateDescription, summary: summary)
            try Self.record(record, requestKey: requestKey, issue: changed, db)
            return .changed(changed, record)
        }
    }

    /// Writes the audit record and queues the message updates and thread replies that show it.
    private static func record(_ record: IssueActionRecord, requestKey: String?, issue: Issue, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO issue_actions (issue_id, action, actor, actor_name, surface, at, old_state, new_state,
                                           summary, request_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.issueID, record.action, record.actor.email ?? record.actor.name, record.actor.name,
                record.actor.surface, record.at.timeIntervalSince1970, record.oldState, record.newState, record.summary,
                requestKey,
            ])
        try queueMessageUpdates(issue: issue, summary: record.summary, db, now: record.at)
    }

    /// Ends the ignores whose time has passed: each issue becomes unresolved (substatus `reappeared`, so its
    /// next event fires `reappeared`), with an audit record and its messages updated. Ignores until more
    /// events end with the event that completes the count.
    @discardableResult
    public func expireIgnores(now: Date = Date()) async throws -> [Issue] {
        try await pool.write { db in
            let due = try IssueRow.fetchAll(
                db, sql: "WHERE issues.status = 'ignored' AND issues.ignore_kind = 'until' AND issues.ignore_until <= ?",
                [now.timeIntervalSince1970])
            return try due.compactMap { issue in
                guard let changed = IssueLifecycle.ignoreLapsed(issue, now: now) else { return nil }
                try Self.save(changed, db)
                let record = IssueActionRecord(
                    issueID: issue.id, action: "expire", actor: Actor(email: nil, name: "Herald", surface: "its schedule"),
                    at: now, oldState: issue.stateDescription, newState: changed.stateDescription,
                    summary: IssueLifecycle.lapseSummary)
                try Self.record(record, requestKey: nil, issue: changed, db)
                return changed
            }
        }
    }

    /// For each first message of the issue: an `update` row (the message rewritten to the new state) and a
    /// `note` row (a thread reply with the summary). They copy the original alert's rules, tags and notes, so
    /// the rewritten message reads like the first, and they go to the message's channel lane.
    private static func queueMessageUpdates(issue: Issue, summary: String, _ db: Database, now: Date) throws {
        let latestEvent = try Row.fetchOne(
            db, sql: "SELECT id, event_id FROM events WHERE issue_id = ? ORDER BY id DESC LIMIT 1", arguments: [issue.id])
        let messages = try Row.fetchAll(
            db,
            sql: """
                SELECT h.id, h.kind, h.target, h.channel, o.rules, o.tags, o.notes
                FROM message_handles h LEFT JOIN outbox o ON o.id = h.outbox_id
                WHERE h.issue_id = ? AND h.thread_ref IS NULL
                ORDER BY h.id
                """,
            arguments: [issue.id])
        for purpose in [DeliveryPurpose.update, .note] {
            for message in messages {
                var row = OutboxRecord(
                    projectID: issue.projectID, issueID: issue.id, eventRowID: latestEvent?["id"] ?? 0,
                    eventID: latestEvent?["event_id"] ?? "", kind: message["kind"], target: message["target"],
                    channel: message["channel"], rules: JSONText.decodeArray(message["rules"]),
                    tags: JSONText.decodeArray(message["tags"]), notes: JSONText.decodeArray(message["notes"]),
                    purpose: purpose, handleID: message["id"], note: summary, now: now)
                try row.insert(db)
            }
        }
    }

    /// The issue's audit trail, newest first.
    public func actions(issue: Int64, limit: Int = 100) async throws -> [IssueActionRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM issue_actions WHERE issue_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [issue, limit]
            ).map { row in
                let actor: String = row["actor"]
                return IssueActionRecord(
                    issueID: row["issue_id"], action: row["action"],
                    actor: Actor(email: actor.contains("@") ? actor : nil, name: row["actor_name"], surface: row["surface"]),
                    at: Date(timeIntervalSince1970: row["at"]), oldState: row["old_state"], newState: row["new_state"],
                    summary: row["summary"])
            }
        }
    }
}

/// Who acknowledged an issue, and when: shown on the issue itself, not only in its audit trail.
public struct Acknowledgement: Sendable, Hashable {
    public var name: String
    public var email: String?
    public var surface: String
    public var at: Date
}

extension Store {
    /// The issue's standing acknowledgement: the newest `ack` with no other action after it and no regression
    /// since. Acting on the issue in any other way, or its coming back, ends it.
    public func acknowledgement(issue: Issue) async throws -> Acknowledgement? {
        let found = try await pool.read { db -> Acknowledgement? in
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT actor, actor_name, surface, at FROM issue_actions
                    WHERE issue_id = ? AND action = 'ack'
                      AND id > COALESCE((SELECT MAX(id) FROM issue_actions WHERE issue_id = ? AND action != 'ack'), 0)
                    ORDER BY id DESC LIMIT 1
                    """,
                arguments: [issue.id, issue.id])
            else { return nil }
            let actor: String = row["actor"]
            return Acknowledgement(
                name: row["actor_name"], email: actor.contains("@") ? actor : nil, surface: row["surface"],
                at: Date(timeIntervalSince1970: row["at"]))
        }
        guard let found, issue.status == .unresolved else { return nil }
        if let regressed = issue.regressedAt, regressed > found.at { return nil }
        return found
    }
}
