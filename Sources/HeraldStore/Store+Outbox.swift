import Foundation
import GRDB
import HeraldCore

/// Where an outbox row stands.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for its first attempt, or for a retry due soon.
    case pending
    /// Failed with a retryable error and waiting a while for its next attempt (`next_attempt_at`); delivery
    /// does not hold such rows in memory but reads them back when they are due.
    case retrying
    /// Sent; chat messages have a handle.
    case delivered
    /// Refused for good (a missing channel, a revoked token…); `last_error` says why.
    case failed
    /// Retried until the give-up age without success.
    case dead
}

/// A chat message Herald posted: what later updates and thread replies need.
public struct MessageHandle: Sendable, Hashable {
    public var issueID: Int64
    public var kind: String
    /// The Slack workspace or Mattermost connector.
    public var target: String
    /// The channel as the rule named it.
    public var channel: String
    /// The channel id the message is in (a fallback channel's when the named one did not exist).
    public var channelID: String
    /// Slack's `ts`, Mattermost's post id.
    public var ref: String
    /// The parent message's ref when this one is a thread reply.
    public var threadRef: String?

    public init(
        issueID: Int64, kind: String, target: String, channel: String, channelID: String, ref: String,
        threadRef: String? = nil
    ) {
        self.issueID = issueID
        self.kind = kind
        self.target = target
        self.channel = channel
        self.channelID = channelID
        self.ref = ref
        self.threadRef = threadRef
    }
}

/// An outbox row due for sending, with everything its message shows.
public struct PendingDelivery: Sendable {
    public var id: Int64
    public var projectID: Int
    public var projectSlug: String
    /// The issue as it stood when the row was read.
    public var issue: Issue
    public var eventID: String
    /// The event as received; nil when it is no longer stored.
    public var eventPayload: Data?
    public var kind: String
    public var target: String
    public var channel: String?
    public var channelTemplate: String?
    public var rules: [String]
    public var tags: [String]
    public var notes: [String]
    public var problem: String?
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    /// The issue's first message in this channel, when there is one: a repeat firing replies in its thread.
    public var parent: MessageHandle?
    /// `alert` (a new message, or a thread reply for a repeat firing), `update` (rewrite `subject` to the
    /// issue's new state) or `note` (reply to `subject` with `note`).
    public var purpose: String = "alert"
    /// The message an `update` or `note` acts on.
    public var subject: MessageHandle?
    /// What an action's messages say: "Resolved by Alice via Slack".
    public var note: String?

    public init(
        id: Int64, projectID: Int, projectSlug: String, issue: Issue, eventID: String, eventPayload: Data?,
        kind: String, target: String, channel: String?, channelTemplate: String?, rules: [String], tags: [String],
        notes: [String], problem: String?, attempts: Int, createdAt: Date, nextAttemptAt: Date, parent: MessageHandle?
    ) {
        self.id = id
        self.projectID = projectID
        self.projectSlug = projectSlug
        self.issue = issue
        self.eventID = eventID
        self.eventPayload = eventPayload
        self.kind = kind
        self.target = target
        self.channel = channel
        self.channelTemplate = channelTemplate
        self.rules = rules
        self.tags = tags
        self.notes = notes
        self.problem = problem
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.parent = parent
    }
}

/// How one attempt at a delivery ended, to be recorded.
public struct DeliveryCompletion: Sendable {
    public enum Outcome: Sendable {
        /// Sent. Chat messages carry their handle; webhooks and Mattermost incoming webhooks have none.
        case delivered(MessageHandle?)
        /// To be tried again soon; delivery keeps the row in memory.
        case retry(at: Date, reason: String)
        /// To be tried again later; the row waits in `retrying` until `dueRetries` returns it.
        case park(until: Date, reason: String)
        case failed(reason: String)
        case dead(reason: String)
    }

    public var id: Int64
    /// Attempts made so far, this one included.
    public var attempts: Int
    public var outcome: Outcome
    /// A channel name learned to stand for an id on the way.
    public var resolvedChannel: ResolvedChannel?

    public init(id: Int64, attempts: Int, outcome: Outcome, resolvedChannel: ResolvedChannel? = nil) {
        self.id = id
        self.attempts = attempts
        self.outcome = outcome
        self.resolvedChannel = resolvedChannel
    }
}

/// A channel name and the id it stands for in one workspace or connector.
public struct ResolvedChannel: Sendable, Hashable {
    public var kind: String
    public var target: String
    public var name: String
    public var id: String

    public init(kind: String, target: String, name: String, id: String) {
        self.kind = kind
        self.target = target
        self.name = name
        self.id = id
    }
}

/// Which deliveries to list.
public struct DeliveryQuery: Sendable {
    public var statuses: [DeliveryStatus]
    public var issueID: Int64?
    public var kind: String?
    public var target: String?
    /// Continue below this row id, from the previous page.
    public var beforeID: Int64?
    public var limit: Int

    public init(
        statuses: [DeliveryStatus] = [], issueID: Int64? = nil, kind: String? = nil, target: String? = nil,
        beforeID: Int64? = nil, limit: Int = 50
    ) {
        self.statuses = statuses
        self.issueID = issueID
        self.kind = kind
        self.target = target
        self.beforeID = beforeID
        self.limit = limit
    }
}

extension Store {
    /// A page of pending rows.
    public struct PendingPage: Sendable {
        public var deliveries: [PendingDelivery]
        /// The highest id the page looked at: the next page starts above it.
        public var lastID: Int64?
        /// Whether the page was full, so more rows may follow at once.
        public var isFull: Bool
    }

    /// Pending rows with ids above `afterID`, oldest first, each with its issue, event and parent message.
    ///
    /// Delivery keeps the rows it has read in memory and asks only for newer ones; rows are written by one
    /// writer in id order, so a row with a lower id never appears later. A row whose issue is gone is skipped.
    public func pendingDeliveries(after afterID: Int64, limit: Int) async throws -> PendingPage {
        try await readDeliveries(
            where: "outbox.status = 'pending' AND outbox.id > ?", order: "outbox.id", [afterID, limit], limit: limit)
    }

    /// Rows in `retrying` whose next attempt is due, the longest-waiting first.
    public func dueRetries(now: Date = Date(), limit: Int) async throws -> [PendingDelivery] {
        try await readDeliveries(
            where: "outbox.status = 'retrying' AND outbox.next_attempt_at <= ?", order: "outbox.next_attempt_at, outbox.id",
            [now.timeIntervalSince1970, limit], limit: limit
        ).deliveries
    }

    /// The alert that posted a message, with its issue as it now stands: what re-rendering the message needs.
    public func alert(postedAs ref: String, kind: String, target: String) async throws -> PendingDelivery? {
        try await readDeliveries(
            where: """
                outbox.id = (SELECT outbox_id FROM message_handles
                             WHERE kind = ? AND target = ? AND message_ref = ? AND thread_ref IS NULL LIMIT 1)
                """,
            order: "outbox.id", [kind, target, ref, 1], limit: 1
        ).deliveries.first
    }

    private func readDeliveries(where filter: String, order: String, _ arguments: StatementArguments, limit: Int)
        async throws -> PendingPage
    {
        try await pool.read { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT outbox.id, outbox.project_id, projects.slug, outbox.issue_id, outbox.event_id, events.payload,
                       outbox.kind, outbox.target, outbox.channel, outbox.channel_template, outbox.rules, outbox.tags,
                       outbox.notes, outbox.problem, outbox.attempts, outbox.created_at, outbox.next_attempt_at,
                       h.channel_id, h.message_ref, outbox.purpose, outbox.note, s.channel_id, s.message_ref, s.channel
                FROM outbox
                JOIN projects ON projects.id = outbox.project_id
                LEFT JOIN events ON events.id = outbox.event_row_id
                LEFT JOIN message_handles h ON h.id = (
                    SELECT MAX(id) FROM message_handles
                    WHERE issue_id = outbox.issue_id AND kind = outbox.kind AND target = outbox.target
                      AND channel = outbox.channel AND thread_ref IS NULL)
                LEFT JOIN message_handles s ON s.id = outbox.handle_id
                WHERE \(filter)
                ORDER BY \(order) LIMIT ?
                """), arguments: arguments)
            guard let lastID = rows.last.map({ $0[0] as Int64 }) else {
                return PendingPage(deliveries: [], lastID: nil, isFull: false)
            }
            let issueIDs = Set(rows.map { $0[3] as Int64 })
            let placeholders = Array(repeating: "?", count: issueIDs.count).joined(separator: ",")
            let issues = try IssueRow.fetchAll(
                db, sql: "WHERE issues.id IN (\(placeholders))", StatementArguments(Array(issueIDs)))
            let byID = Dictionary(uniqueKeysWithValues: issues.map { ($0.id, $0) })
            let deliveries = rows.compactMap { row -> PendingDelivery? in
                let issueID: Int64 = row[3]
                guard let issue = byID[issueID] else { return nil }
                let kind: String = row[6]
                let target: String = row[7]
                let channel: String? = row[8]
                let parent = (row[17] as String?).flatMap { channelID in
                    (row[18] as String?).map { ref in
                        MessageHandle(issueID: issueID, kind: kind, target: target, channel: channel ?? "",
                                      channelID: channelID, ref: ref)
                    }
                }
                var delivery = PendingDelivery(
                    id: row[0], projectID: row[1], projectSlug: row[2], issue: issue, eventID: row[4],
                    eventPayload: row[5], kind: kind, target: target, channel: channel, channelTemplate: row[9],
                    rules: JSONText.decodeArray(row[10]), tags: JSONText.decodeArray(row[11]),
                    notes: JSONText.decodeArray(row[12]), problem: row[13], attempts: row[14],
                    createdAt: Date(timeIntervalSince1970: row[15]), nextAttemptAt: Date(timeIntervalSince1970: row[16]),
                    parent: parent)
                delivery.purpose = row[19]
                delivery.note = row[20]
                delivery.subject = (row[21] as String?).flatMap { channelID in
                    (row[22] as String?).map { ref in
                        MessageHandle(issueID: issueID, kind: kind, target: target, channel: row[23] ?? "",
                                      channelID: channelID, ref: ref)
                    }
                }
                return delivery
            }
            return PendingPage(deliveries: deliveries, lastID: lastID, isFull: rows.count == limit)
        }
    }

    /// Records how attempts ended, in one transaction. A sent message's handle is written in the same
    /// transaction that marks its row delivered, so a row is never done without the handle its later
    /// replies and updates need.
    public func complete(_ completions: [DeliveryCompletion], now: Date = Date()) async throws {
        guard !completions.isEmpty else { return }
        let nowSeconds = now.timeIntervalSince1970
        try await pool.write { db in
            for completion in completions {
                if let channel = completion.resolvedChannel {
                    try db.cachedStatement(sql: """
                        INSERT INTO chat_channels (kind, target, name, channel_id, resolved_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (kind, target, name) DO UPDATE SET
                            channel_id = excluded.channel_id, resolved_at = excluded.resolved_at
                        """).execute(arguments: [channel.kind, channel.target, channel.name, channel.id, nowSeconds])
                }
                var status = DeliveryStatus.pending
                var nextAttempt = nowSeconds
                var lastError: String?
                var delivered: MessageHandle?
                switch completion.outcome {
                case .delivered(let handle):
                    status = .delivered
                    delivered = handle
                case .retry(let at, let reason):
                    nextAttempt = at.timeIntervalSince1970
                    lastError = reason
                case .park(let until, let reason):
                    status = .retrying
                    nextAttempt = until.timeIntervalSince1970
                    lastError = reason
                case .failed(let reason):
                    status = .failed
                    lastError = reason
                case .dead(let reason):
                    status = .dead
                    lastError = reason
                }
                if let handle = delivered {
                    try db.cachedStatement(sql: """
                        INSERT INTO message_handles (issue_id, kind, target, channel, channel_id, message_ref, thread_ref,
                                                     outbox_id, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute(arguments: [
                            handle.issueID, handle.kind, handle.target, handle.channel, handle.channelID, handle.ref,
                            handle.threadRef, completion.id, nowSeconds, nowSeconds,
                        ])
                }
                try db.cachedStatement(sql: """
                    UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?,
                        delivered_channel = ?, delivered_ref = ?, delivered_at = ?
                    WHERE id = ? AND status IN ('pending', 'retrying')
                    """).execute(arguments: [
                        status.rawValue, completion.attempts, nextAttempt, lastError, nowSeconds, delivered?.channelID,
                        delivered?.ref, status == .delivered ? nowSeconds : nil, completion.id,
                    ])
            }
        }
    }

    /// Channel names already resolved to ids, for one kind of target, keyed by target then name.
    public func resolvedChannels(kind: String) async throws -> [String: [String: String]] {
        try await pool.read { db in
            var result: [String: [String: String]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT target, name, channel_id FROM chat_channels WHERE kind = ?", arguments: [kind])
            {
                result[row[0], default: [:]][row[1]] = row[2]
            }
            return result
        }
    }

    /// Every message posted for an issue, first messages before their replies, oldest first.
    public func messageHandles(issue: Int64) async throws -> [MessageHandle] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT issue_id, kind, target, channel, channel_id, message_ref, thread_ref FROM message_handles
                    WHERE issue_id = ? ORDER BY thread_ref IS NOT NULL, id
                    """,
                arguments: [issue]
            ).map { row in
                MessageHandle(issueID: row[0], kind: row[1], target: row[2], channel: row[3], channelID: row[4],
                              ref: row[5], threadRef: row[6])
            }
        }
    }

    /// Outbox rows, newest first.
    public func deliveries(_ query: DeliveryQuery) async throws -> [OutboxEntry] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if !query.statuses.isEmpty {
            conditions.append("status IN (\(Array(repeating: "?", count: query.statuses.count).joined(separator: ",")))")
            arguments += StatementArguments(query.statuses.map(\.rawValue))
        }
        if let issue = query.issueID {
            conditions.append("issue_id = ?")
            arguments += [issue]
        }
        if let kind = query.kind {
            conditions.append("kind = ?")
            arguments += [kind]
        }
        if let target = query.target {
            conditions.append("target = ?")
            arguments += [target]
        }
        if let before = query.beforeID {
            conditions.append("id < ?")
            arguments += [before]
        }
        arguments += [query.limit]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try await pool.read { [arguments] db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments)
                .map(OutboxEntry.init(row:))
        }
    }

    /// The key that signs what Herald puts in chat buttons, made at random the first time it is asked for.
    public func callbackKey() throws -> [UInt8] {
        try pool.write { db in
            if let hex = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'callback_key'"),
                let key = [UInt8](hex: hex)
            {
                return key
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            try db.execute(
                sql: "INSERT INTO settings (key, value) VALUES ('callback_key', ?)", arguments: [key.hexString])
            return key
        }
    }
}

extension OutboxEntry {
    init(row: Row) {
        self.init(
            id: row["id"], issueID: row["issue_id"], eventID: row["event_id"], kind: row["kind"],
            target: row["target"], channel: row["channel"], rules: JSONText.decodeArray(row["rules"]),
            tags: JSONText.decodeArray(row["tags"]), notes: JSONText.decodeArray(row["notes"]),
            problem: row["problem"], status: row["status"], attempts: row["attempts"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), lastError: row["last_error"],
            nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]), deliveredChannel: row["delivered_channel"],
            deliveredRef: row["delivered_ref"],
            deliveredAt: (row["delivered_at"] as Double?).map(Date.init(timeIntervalSince1970:)), purpose: row["purpose"])
    }
}
