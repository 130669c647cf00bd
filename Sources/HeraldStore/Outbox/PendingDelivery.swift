import Foundation
import HeraldCore

/// An outbox row due for sending, with everything its message shows.
public struct PendingDelivery: Sendable {
    public var record: OutboxRecord
    public var projectSlug: String
    /// The issue as it stood when the row was read.
    public var issue: Issue
    /// The event as received; nil when it is no longer stored.
    public var eventPayload: Data?
    /// The issue's first message in this channel, when there is one: a repeat firing replies in its thread.
    public var parent: MessageHandle?
    /// The message an `update` or `note` acts on.
    public var subject: MessageHandle?

    /// A row as read, before the store joins the messages it refers to.
    public init(record: OutboxRecord, projectSlug: String, issue: Issue, eventPayload: Data?) {
        self.record = record
        self.projectSlug = projectSlug
        self.issue = issue
        self.eventPayload = eventPayload
    }

    /// The row's id; 0 for a delivery that was never stored (`herald notify-test`).
    public var id: Int64 { record.id ?? 0 }
    public var kind: DeliveryKind { record.kind }
    public var target: String { record.target }
    public var channel: String? { record.channel }
    public var channelTemplate: String? { record.channelTemplate }
    public var problem: String? { record.problem }
    public var purpose: DeliveryPurpose {
        get { record.purpose }
        set { record.purpose = newValue }
    }
    public var note: String? {
        get { record.note }
        set { record.note = newValue }
    }
    public var attempts: Int {
        get { record.attempts }
        set { record.attempts = newValue }
    }
    public var createdAt: Date { record.createdAt }
    public var nextAttemptAt: Date { record.nextAttemptAt }
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

    /// Whether the row is done with memory once this is written: all but a retry kept in its lane.
    public var leavesMemory: Bool {
        if case .retry = outcome { return false }
        return true
    }

    public init(id: Int64, attempts: Int, outcome: Outcome, resolvedChannel: ResolvedChannel? = nil) {
        self.id = id
        self.attempts = attempts
        self.outcome = outcome
        self.resolvedChannel = resolvedChannel
    }
}
