import Foundation
import GRDB
import HeraldCore

/// Which deliveries to list.
public struct DeliveryQuery: Sendable {
    public var statuses: [DeliveryStatus]
    public var issueID: Int64?
    public var kind: DeliveryKind?
    public var target: String?
    /// Continue below this row id, from the previous page.
    public var beforeID: Int64?
    public var limit: Int

    public init(
        statuses: [DeliveryStatus] = [], issueID: Int64? = nil, kind: DeliveryKind? = nil, target: String? = nil,
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
    public func alert(postedAs ref: String, kind: DeliveryKind, target: String) async throws -> PendingDelivery? {
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
            // The joined columns come first, at fixed positions; the outbox's follow, found by name once.
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT projects.slug AS project_slug, events.payload AS event_payload,
                       h.channel_id AS parent_channel_id, h.message_ref AS parent_ref,
                       s.channel_id AS subject_channel_id, s.message_ref AS subject_ref, s.channel AS subject_channel,
                       outbox.*
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
            guard let first = rows.first else { return PendingPage(deliveries: [], lastID: nil, isFull: false) }
            let layout = try OutboxRecord.Layout(columnNames: first.columnNames)
            let records = try rows.map { try OutboxRecord(row: $0, layout: layout) }
            guard let lastID = records.last?.id else {
                return PendingPage(deliveries: [], lastID: nil, isFull: false)
            }
            let issueIDs = Set(records.map(\.issueID))
            let placeholders = Array(repeating: "?", count: issueIDs.count).joined(separator: ",")
            let issues = try IssueRow.fetchAll(
                db, sql: "WHERE issues.id IN (\(placeholders))", StatementArguments(Array(issueIDs)))
            let byID = Dictionary(uniqueKeysWithValues: issues.map { ($0.id, $0) })
            let deliveries = zip(rows, records).compactMap { row, record -> PendingDelivery? in
                guard let issue = byID[record.issueID] else { return nil }
                func handle(_ channelID: String?, _ ref: String?, channel: String?) -> MessageHandle? {
                    guard let channelID, let ref else { return nil }
                    return MessageHandle(
                        issueID: record.issueID, kind: record.kind, target: record.target, channel: channel ?? "",
                        channelID: channelID, ref: ref)
                }
                var delivery = PendingDelivery(record: record, projectSlug: row[0], issue: issue, eventPayload: row[1])
                delivery.parent = handle(row[2], row[3], channel: record.channel)
                delivery.subject = handle(row[4], row[5], channel: row[6])
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
                        status, completion.attempts, nextAttempt, lastError, nowSeconds, delivered?.channelID,
                        delivered?.ref, status == .delivered ? nowSeconds : nil, completion.id,
                    ])
            }
        }
    }

    /// Channel names already resolved to ids, for one kind of target, keyed by target then name.
    public func resolvedChannels(kind: DeliveryKind) async throws -> [String: [String: String]] {
        try await pool.read { db in
            var result: [String: [String: String]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT target, name, channel_id FROM chat_channels WHERE kind = ?", arguments: [kind])
            {
                result[row["target"], default: [:]][row["name"]] = row["channel_id"]
            }
            return result
        }
    }

    /// The first message Herald posted as `ref` on a connector or workspace; nil when it posted none so.
    public func messageHandle(ref: String, kind: DeliveryKind, target: String) async throws -> MessageHandle? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT issue_id, kind, target, channel, channel_id, message_ref, thread_ref FROM message_handles
                    WHERE kind = ? AND target = ? AND message_ref = ? AND thread_ref IS NULL LIMIT 1
                    """,
                arguments: [kind, target, ref]
            ).map(MessageHandle.init(row:))
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
            ).map(MessageHandle.init(row:))
        }
    }

    /// Outbox rows, newest first.
    public func deliveries(_ query: DeliveryQuery) async throws -> [OutboxRecord] {
        typealias Columns = OutboxRecord.Columns
        var request = OutboxRecord.all()
        if !query.statuses.isEmpty { request = request.filter(query.statuses.contains(Columns.status)) }
        if let issue = query.issueID { request = request.filter(Columns.issueID == issue) }
        if let kind = query.kind { request = request.filter(Columns.kind == kind) }
        if let target = query.target { request = request.filter(Columns.target == target) }
        if let before = query.beforeID { request = request.filter(Columns.id < before) }
        let page = request.order(Columns.id.desc).limit(query.limit)
        return try await pool.read { db in try page.fetchAll(db) }
    }

    /// The key that signs what Herald puts in chat buttons, made at random the first time it is asked for.
    public func callbackKey() throws -> [UInt8] {
        try setting(key: "callback_key")
    }

    /// A 32-byte random key stored under `key` in `settings`, made the first time it is asked for.
    func setting(key: String) throws -> [UInt8] {
        try pool.write { db in
            if let hex = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]),
                let value = [UInt8](hex: hex)
            {
                return value
            }
            var generator = SystemRandomNumberGenerator()
            let value = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?)", arguments: [key, value.hexString])
            return value
        }
    }
}

extension MessageHandle {
    /// A `message_handles` row.
    init(row: Row) {
        self.init(
            issueID: row["issue_id"], kind: row["kind"], target: row["target"], channel: row["channel"],
            channelID: row["channel_id"], ref: row["message_ref"], threadRef: row["thread_ref"])
    }
}
