import Foundation
import GRDB
import HeraldCore

/// One row of the outbox: a message to send, with where it stands. Every insert into the outbox and every
/// read of its rows goes through this type, so a column is named in one place.
public struct OutboxRecord: Sendable, Hashable {
    /// nil until inserted.
    public var id: Int64?
    public var projectID: Int
    public var issueID: Int64
    /// The stored event the message shows; its payload is kept while the row is open.
    public var eventRowID: Int64
    public var eventID: String
    public var kind: DeliveryKind
    /// The Slack workspace, Mattermost connector or webhook, by config name.
    public var target: String
    /// The channel as the rule named it; nil for webhooks.
    public var channel: String?
    /// The template the channel was rendered from, when it takes parts from the event.
    public var channelTemplate: String?
    public var rules: [String]
    public var tags: [String]
    public var notes: [String]
    /// Why the channel could not be rendered, when it could not.
    public var problem: String?
    public var status: DeliveryStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var updatedAt: Date
    public var lastError: String?
    /// The channel id and message ref (Slack `ts`, Mattermost post id) once delivered to chat.
    public var deliveredChannel: String?
    public var deliveredRef: String?
    public var deliveredAt: Date?
    public var purpose: DeliveryPurpose
    /// The message an `update` or `note` acts on (a row of `message_handles`).
    public var handleID: Int64?
    /// What an action's messages say: "Resolved by Alice via Slack".
    public var note: String?

    /// A new row, pending from `now`.
    public init(
        projectID: Int, issueID: Int64, eventRowID: Int64, eventID: String, kind: DeliveryKind, target: String,
        channel: String?, channelTemplate: String? = nil, rules: [String], tags: [String], notes: [String],
        problem: String? = nil, purpose: DeliveryPurpose = .alert, handleID: Int64? = nil, note: String? = nil,
        now: Date
    ) {
        self.projectID = projectID
        self.issueID = issueID
        self.eventRowID = eventRowID
        self.eventID = eventID
        self.kind = kind
        self.target = target
        self.channel = channel
        self.channelTemplate = channelTemplate
        self.rules = rules
        self.tags = tags
        self.notes = notes
        self.problem = problem
        self.status = .pending
        self.attempts = 0
        self.nextAttemptAt = now
        self.createdAt = now
        self.updatedAt = now
        self.purpose = purpose
        self.handleID = handleID
        self.note = note
    }
}

extension OutboxRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "outbox"

    /// The table's columns.
    public enum Columns: String, ColumnExpression, CaseIterable, Sendable {
        case id
        case projectID = "project_id"
        case issueID = "issue_id"
        case eventRowID = "event_row_id"
        case eventID = "event_id"
        case kind, target, channel
        case channelTemplate = "channel_template"
        case rules, tags, notes, problem, status, attempts
        case nextAttemptAt = "next_attempt_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastError = "last_error"
        case deliveredChannel = "delivered_channel"
        case deliveredRef = "delivered_ref"
        case deliveredAt = "delivered_at"
        case purpose
        case handleID = "handle_id"
        case note
    }

    /// Where each column sits in the rows of one query, found once per query from the column names, so a
    /// query may select other columns beside the table's (under other names).
    ///
    /// Rows are then read by position: GRDB finds a column of a fetched row by name by lowercasing every
    /// column name on every lookup, and reading the outbox's 25 columns that way made delivery about 9%
    /// slower (1,695 and 1,721 against 1,849 and 1,909 deliveries/s, same-hour A/B in Benchmarks/README.md).
    public struct Layout: Sendable {
        private let positions: [Columns: Int]

        public init(columnNames: some Sequence<String>) throws {
            var found: [String: Int] = [:]
            for (index, name) in columnNames.enumerated() where found[name] == nil { found[name] = index }
            var positions: [Columns: Int] = [:]
            for column in Columns.allCases {
                guard let index = found[column.rawValue] else { throw StoreError.missingColumn(column.rawValue) }
                positions[column] = index
            }
            self.positions = positions
        }

        func callAsFunction(_ column: Columns) -> Int { positions[column] ?? 0 }
    }

    public init(row: Row) throws {
        try self.init(row: row, layout: Layout(columnNames: row.columnNames))
    }

    /// Reads a row of a query whose layout is known.
    public init(row: Row, layout at: Layout) throws {
        id = try row.decode(atIndex: at(.id))
        projectID = try row.decode(atIndex: at(.projectID))
        issueID = try row.decode(atIndex: at(.issueID))
        eventRowID = try row.decode(atIndex: at(.eventRowID))
        eventID = try row.decode(atIndex: at(.eventID))
        kind = try row.decode(atIndex: at(.kind))
        target = try row.decode(atIndex: at(.target))
        channel = try row.decode(atIndex: at(.channel))
        channelTemplate = try row.decode(atIndex: at(.channelTemplate))
        rules = JSONText.decodeArray(try row.decode(atIndex: at(.rules)))
        tags = JSONText.decodeArray(try row.decode(atIndex: at(.tags)))
        notes = JSONText.decodeArray(try row.decode(atIndex: at(.notes)))
        problem = try row.decode(atIndex: at(.problem))
        status = try row.decode(atIndex: at(.status))
        attempts = try row.decode(atIndex: at(.attempts))
        nextAttemptAt = Date(timeIntervalSince1970: try row.decode(atIndex: at(.nextAttemptAt)))
        createdAt = Date(timeIntervalSince1970: try row.decode(atIndex: at(.createdAt)))
        updatedAt = Date(timeIntervalSince1970: try row.decode(atIndex: at(.updatedAt)))
        lastError = try row.decode(atIndex: at(.lastError))
        deliveredChannel = try row.decode(atIndex: at(.deliveredChannel))
        deliveredRef = try row.decode(atIndex: at(.deliveredRef))
        deliveredAt = (try row.decode(Double?.self, atIndex: at(.deliveredAt))).map(Date.init(timeIntervalSince1970:))
        purpose = try row.decode(atIndex: at(.purpose))
        handleID = try row.decode(atIndex: at(.handleID))
        note = try row.decode(atIndex: at(.note))
    }

    /// Times are Unix seconds (REAL) and lists JSON text, as everywhere in the schema.
    public func encode(to container: inout PersistenceContainer) throws {
        container[Columns.id] = id
        container[Columns.projectID] = projectID
        container[Columns.issueID] = issueID
        container[Columns.eventRowID] = eventRowID
        container[Columns.eventID] = eventID
        container[Columns.kind] = kind
        container[Columns.target] = target
        container[Columns.channel] = channel
        container[Columns.channelTemplate] = channelTemplate
        container[Columns.rules] = JSONText.array(rules)
        container[Columns.tags] = JSONText.array(tags)
        container[Columns.notes] = JSONText.array(notes)
        container[Columns.problem] = problem
        container[Columns.status] = status
        container[Columns.attempts] = attempts
        container[Columns.nextAttemptAt] = nextAttemptAt.timeIntervalSince1970
        container[Columns.createdAt] = createdAt.timeIntervalSince1970
        container[Columns.updatedAt] = updatedAt.timeIntervalSince1970
        container[Columns.lastError] = lastError
        container[Columns.deliveredChannel] = deliveredChannel
        container[Columns.deliveredRef] = deliveredRef
        container[Columns.deliveredAt] = deliveredAt?.timeIntervalSince1970
        container[Columns.purpose] = purpose
        container[Columns.handleID] = handleID
        container[Columns.note] = note
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
