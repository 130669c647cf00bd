import Foundation
import GRDB
import HeraldCore

/// A stored event, as the admin API shows it.
public struct StoredEvent: Sendable {
    public var eventID: String
    public var receivedAt: Date
    public var timestamp: Date?
    public var level: String
    public var title: String
    public var environment: String?
    public var release: String?
    public var userKey: String?
    /// The event JSON as received.
    public var payload: Data
}

/// One firing of one rule for one issue.
public struct RuleFiring: Sendable {
    public var rule: String
    public var eventID: String
    public var firedAt: Date
    /// The transition that gave the triggers their facts (`new`, `regression`, `reappeared`, `ongoing`).
    public var state: String
    public var ruleSetVersion: String
}

/// Which issues to list.
public struct IssueQuery: Sendable {
    public var projectID: Int?
    public var status: IssueStatus?
    public var level: Level?
    /// Issues with a stored event from this environment.
    public var environment: String?
    /// Issues assigned to this email.
    public var assignee: String?
    /// Words that must all appear in the title or the culprit, ignoring case.
    public var text: String?
    public var order: IssueOrder
    /// Continue after this position, from the previous page's `nextCursor` (of the same order).
    public var cursor: IssueCursor?
    public var limit: Int

    public init(projectID: Int? = nil, status: IssueStatus? = nil, cursor: IssueCursor? = nil, limit: Int = 50) {
        self.projectID = projectID
        self.status = status
        self.order = .lastSeen
        self.cursor = cursor
        self.limit = limit
    }
}

/// How an issue list is ordered, largest first; ties go by id, newest first.
public enum IssueOrder: String, Sendable, CaseIterable {
    case lastSeen = "last_seen"
    case firstSeen = "first_seen"
    case events
    case users

    var column: String {
        switch self {
        case .lastSeen: "issues.last_seen"
        case .firstSeen: "issues.first_seen"
        case .events: "issues.times_seen"
        case .users: "issues.users_seen"
        }
    }

    func key(_ issue: Issue) -> Double {
        switch self {
        case .lastSeen: issue.lastSeen.timeIntervalSince1970
        case .firstSeen: issue.firstSeen.timeIntervalSince1970
        case .events: Double(issue.timesSeen)
        case .users: Double(issue.usersSeen)
        }
    }
}

/// A position in an issue list: the last issue shown, by its value in the list's order and its id.
public struct IssueCursor: Sendable, Hashable {
    /// The last issue's value in the order: its last or first seen time, its events or its users.
    public var key: Double
    public var id: Int64

    /// The opaque text handed to clients.
    public var text: String { "\(key.bitPattern)-\(id)" }

    public init(key: Double, id: Int64) {
        self.key = key
        self.id = id
    }

    public init?(text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let bits = UInt64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(key: Double(bitPattern: bits), id: id)
    }
}

public struct IssuePage: Sendable {
    public var issues: [Issue]
    /// Set when more issues follow.
    public var nextCursor: IssueCursor?
}

extension Store {
    /// Issues in the query's order, one page at a time.
    public func issues(_ query: IssueQuery) async throws -> IssuePage {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let project = query.projectID {
                conditions.append("issues.project_id = ?")
                arguments += [project]
            }
            if let status = query.status {
                conditions.append("issues.status = ?")
                arguments += [status.rawValue]
            }
            if let level = query.level {
                conditions.append("issues.level = ?")
                arguments += [level.name]
            }
            if let environment = query.environment {
                conditions.append("EXISTS (SELECT 1 FROM events WHERE events.environment = ? AND events.issue_id = issues.id)")
                arguments += [environment]
            }
            if let assignee = query.assignee {
                conditions.append("issues.assignee = ? COLLATE NOCASE")
                arguments += [assignee]
            }
            for word in (query.text ?? "").split(whereSeparator: \.isWhitespace).prefix(8) {
                let pattern = "%" + Self.likeEscaped(String(word)) + "%"
                conditions.append(#"(issues.title LIKE ? ESCAPE '\' OR issues.culprit LIKE ? ESCAPE '\')"#)
                arguments += [pattern, pattern]
            }
            let column = query.order.column
            if let cursor = query.cursor {
                conditions.append("(\(column) < ? OR (\(column) = ? AND issues.id < ?))")
                arguments += [cursor.key, cursor.key, cursor.id]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [query.limit + 1]
            var issues = try IssueRow.fetchAll(db, sql: "\(filter) ORDER BY \(column) DESC, issues.id DESC LIMIT ?", arguments)
            var next: IssueCursor?
            if issues.count > query.limit {
                issues.removeLast()
                next = issues.last.map { IssueCursor(key: query.order.key($0), id: $0.id) }
            }
            return IssuePage(issues: issues, nextCursor: next)
        }
    }

    /// `text` with LIKE's wildcards and the escape character escaped by `\`.
    static func likeEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// An issue by row id or short id (`PAYMENTS-12`, any case).
    public func issue(_ reference: String) async throws -> Issue? {
        try await pool.read { db in
            if let id = Int64(reference) {
                return try IssueRow.fetchOne(db, IssueRow.byID, [id])
            }
            guard let dash = reference.lastIndex(of: "-"), let number = Int(reference[reference.index(after: dash)...])
            else { return nil }
            let slug = reference[..<dash].lowercased()
            return try IssueRow.fetchOne(db, IssueRow.byShortID, [slug, number])
        }
    }

    /// The issue's newest events, newest first.
    public func events(issue: Int64, limit: Int = 20) async throws -> [StoredEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE issue_id = ? ORDER BY id DESC LIMIT ?", arguments: [issue, limit]
            ).map { row in
                StoredEvent(row: row)
            }
        }
    }

    /// One stored event of the issue by its event id.
    public func event(issue: Int64, eventID: String) async throws -> StoredEvent? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM events WHERE issue_id = ? AND event_id = ?", arguments: [issue, eventID]
            ).map(StoredEvent.init(row:))
        }
    }
}

extension StoredEvent {
    init(row: Row) {
        self.init(
            eventID: row["event_id"], receivedAt: Date(timeIntervalSince1970: row["received_at"]),
            timestamp: (row["timestamp"] as Double?).map(Date.init(timeIntervalSince1970:)),
            level: row["level"], title: row["title"], environment: row["environment"], release: row["release"],
            userKey: row["user_key"], payload: row["payload"])
    }
}

extension Store {

    /// How many events of the issue are stored (at most the retention per issue, plus any pinned by pending
    /// deliveries).
    public func storedEventCount(issue: Int64) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE issue_id = ?", arguments: [issue]) ?? 0
        }
    }

    /// Whether an event with this id is stored for the project.
    public func hasEvent(project: Int, eventID: String) async throws -> Bool {
        try await issueID(project: project, eventID: eventID) != nil
    }

    /// The issue a stored event belongs to.
    public func issueID(project: Int, eventID: String) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT issue_id FROM events WHERE project_id = ? AND event_id = ?",
                               arguments: [project, eventID])
        }
    }

    /// The issue's rule firings, newest first.
    public func firings(issue: Int64, limit: Int = 50) async throws -> [RuleFiring] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM rule_firings WHERE issue_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [issue, limit]
            ).map { row in
                RuleFiring(
                    rule: row["rule"], eventID: row["event_id"], firedAt: Date(timeIntervalSince1970: row["fired_at"]),
                    state: row["state"], ruleSetVersion: row["rule_set_version"])
            }
        }
    }

    /// The issue's outbox rows, newest first; with `eventID`, only that event's.
    public func deliveries(issue: Int64, eventID: String? = nil, limit: Int = 100) async throws -> [OutboxRecord] {
        var request = OutboxRecord.filter(OutboxRecord.Columns.issueID == issue)
        if let eventID { request = request.filter(OutboxRecord.Columns.eventID == eventID) }
        let page = request.order(OutboxRecord.Columns.id.desc).limit(limit)
        return try await pool.read { db in try page.fetchAll(db) }
    }

    /// Outbox rows waiting to be delivered, retries included.
    public func outboxDepth() async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'retrying')") ?? 0
        }
    }
}
