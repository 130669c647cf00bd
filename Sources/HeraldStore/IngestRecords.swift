import Foundation
import HeraldCore

/// An event accepted over HTTP, parsed and grouped, waiting to be written.
public struct IncomingEvent: Sendable {
    public var projectID: Int
    /// The project slug rules are written against.
    public var projectSlug: String
    /// The event, with `eventID` set.
    public var event: Event
    public var grouping: Grouping
    /// The event JSON as the client sent it (decompressed), kept for the admin API.
    public var payload: Data

    public init(projectID: Int, projectSlug: String, event: Event, grouping: Grouping, payload: Data) {
        precondition(event.eventID != nil, "an incoming event carries its id")
        self.projectID = projectID
        self.projectSlug = projectSlug
        self.event = event
        self.grouping = grouping
        self.payload = payload
    }

    public var eventID: String { event.eventID! }
}

/// What writing one event did.
public enum IngestOutcome: Sendable {
    case stored(StoredEventResult)
    /// An event with the same id was already stored for the project (an SDK retry); nothing changed.
    case duplicate(eventID: String)
    /// Writing this event failed and was rolled back; the rest of the batch is unaffected.
    case failed(eventID: String, reason: String)
    /// The event would open a new issue, and its project has opened as many as its limit allows for now;
    /// nothing was written. A token comes back after `retryAfter` seconds.
    case rateLimited(eventID: String, projectID: Int, retryAfter: Double)
}

/// The effect of one stored event on its issue and the rules.
public struct StoredEventResult: Sendable {
    public var eventID: String
    public var issueID: Int64
    public var shortID: String
    /// How the event changed its issue; nil when the issue stayed resolved or ignored, so no rule ran.
    public var state: IssueState?
    /// Rules whose conditions matched, before action intervals.
    public var matchedRules: Int
    /// Rules that fired: matched and past their action interval for this issue.
    public var firedRules: [String]
    /// Outbox rows written.
    public var deliveries: Int
    /// Time spent in the rule engine, counter reads included.
    public var evaluationTime: Duration

    public var isNewIssue: Bool { state == .new }
}
