/// What must have happened to the issue for a rule to fire: a `when` entry.
public enum Trigger: Hashable, Sendable, CustomStringConvertible {
    /// The event created the issue.
    case firstSeen
    /// The event made a resolved issue unresolved.
    case regression
    /// The event made an ignored issue unresolved after its ignore condition lapsed.
    case reappeared
    /// Every event.
    case everyEvent
    /// More than `count` events in the last `interval`.
    case frequency(count: Int, interval: Interval)
    /// More than `count` distinct users in the last `interval`.
    case uniqueUsers(count: Int, interval: Interval)
    /// Events in the last `interval` grew by more than `percent` against the same window `comparedTo` earlier.
    case frequencyChange(percent: Double, interval: Interval, comparedTo: Interval)

    public static let names = [
        "first_seen", "regression", "reappeared", "every_event", "frequency", "unique_users", "frequency_change",
    ]

    /// Whether answering needs the store's counters; such triggers are asked only once everything cheap passed.
    public var needsCounts: Bool {
        switch self {
        case .firstSeen, .regression, .reappeared, .everyEvent: false
        case .frequency, .uniqueUsers, .frequencyChange: true
        }
    }

    public var description: String {
        switch self {
        case .firstSeen: "first_seen"
        case .regression: "regression"
        case .reappeared: "reappeared"
        case .everyEvent: "every_event"
        case .frequency(let count, let interval): "frequency > \(count) events in \(interval)"
        case .uniqueUsers(let count, let interval): "unique_users > \(count) users in \(interval)"
        case .frequencyChange(let percent, let interval, let comparedTo):
            "frequency_change > \(percent.formatted)% in \(interval) compared to \(comparedTo) earlier"
        }
    }
}

extension Double {
    /// Whole numbers without a trailing `.0`.
    var formatted: String { rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
