import Foundation
import HeraldCore

/// A field of an event that tag and attribute filters read.
enum FieldKey: Hashable, Sendable {
    /// A tag, by its lowercased key.
    case tag(String)
    case attribute(EventAttribute)

    func values(of event: Event) -> [String] {
        switch self {
        case .tag(let key): event.tagValues(key)
        case .attribute(let attribute): event.values(of: attribute)
        }
    }
}

extension Filter {
    /// The field a tag or attribute filter reads.
    var field: FieldKey? {
        switch self {
        case .tag(let key, _): .tag(key.lowercased())
        case .attribute(let attribute, _): .attribute(attribute)
        default: nil
        }
    }

    /// The tag or attribute test of a field filter, nil for the others.
    var match: ValueMatch? {
        switch self {
        case .tag(_, let match), .attribute(_, let match): match
        default: nil
        }
    }

    /// The one definition of what each filter means, shared by the compiled engine and `explain`. Tag and
    /// attribute filters are answered from their field's values (`match.test`); every other filter here.
    func testWithoutField(event: Event, context: EvaluationContext) -> Bool {
        switch self {
        case .level(let comparison, let level):
            return comparison.compare(event.level, level)
        case .tag, .attribute:
            preconditionFailure("field filters are answered by their ValueMatch")
        case .age(let comparison, let span):
            let age = context.now.timeIntervalSince(context.issue.firstSeen)
            return comparison == .olderThan ? age > Double(span.seconds) : age < Double(span.seconds)
        case .occurrences(let count):
            return context.issue.timesSeen >= count
        case .assignedTo(let match):
            return match.test(context.issue.assignee)
        case .latestRelease:
            guard let release = event.release, let latest = context.latestRelease else { return false }
            return release == latest
        }
    }

    /// The filter's answer for one event, computing its field's values when it has a field.
    func test(event: Event, context: EvaluationContext) -> Bool {
        guard let match, let field else { return testWithoutField(event: event, context: context) }
        let values = field.values(of: event)
        return match.test(values: values, lowercased: values.map { $0.lowercased() })
    }

    /// What the filter saw, for `explain`.
    func actual(event: Event, context: EvaluationContext) -> String {
        switch self {
        case .level: return "level is \(event.level.name)"
        case .tag, .attribute:
            let values = field!.values(of: event)
            return values.isEmpty ? "not set" : values.map { "\"\($0)\"" }.joined(separator: ", ")
        case .age:
            let age = max(0, Int(saturating: context.now.timeIntervalSince(context.issue.firstSeen)))
            return "first seen \(TimeSpan(seconds: age)) ago"
        case .occurrences: return "seen \(context.issue.timesSeen) times"
        case .assignedTo: return context.issue.assignee.map { "assigned to \($0)" } ?? "unassigned"
        case .latestRelease:
            return "release \(event.release ?? "not set"), latest release \(context.latestRelease ?? "unknown")"
        }
    }
}

extension Trigger {
    /// The one definition of what each trigger means, shared by the compiled engine and `explain`.
    /// `counts` is asked only by the triggers that need counters.
    func test<Counts: CountSource>(state: IssueState, counts: inout Counts) -> Bool {
        switch self {
        case .firstSeen: state == .new
        case .regression: state == .regression
        case .reappeared: state == .reappeared
        case .everyEvent: true
        case .frequency(let threshold, let window): counts.count(.events, window, nil) > threshold
        case .uniqueUsers(let threshold, let window): counts.count(.users, window, nil) > threshold
        case .frequencyChange(let percent, let window, let comparedTo):
            Self.percentIncrease(current: counts.count(.events, window, nil), previous: counts.count(.events, window, comparedTo))
                > percent
        }
    }

    /// Sentry's `percent_increase`: growth against the earlier window, 0 when the earlier window was empty.
    static func percentIncrease(current: Int, previous: Int) -> Double {
        previous > 0 ? Double(current - previous) * 100 / Double(previous) : 0
    }

    /// What the trigger saw, for `explain`.
    func actual(context: EvaluationContext) -> String {
        let counts = context.counts
        switch self {
        case .firstSeen, .regression, .reappeared, .everyEvent:
            return "issue is \(context.issue.state.rawValue)"
        case .frequency(_, let window):
            return "\(counts.count(.events, in: window, endingAgo: nil)) events in \(window)"
        case .uniqueUsers(_, let window):
            return "\(counts.count(.users, in: window, endingAgo: nil)) users in \(window)"
        case .frequencyChange(_, let window, let comparedTo):
            let current = counts.count(.events, in: window, endingAgo: nil)
            let previous = counts.count(.events, in: window, endingAgo: comparedTo)
            let change = Self.percentIncrease(current: current, previous: previous)
            return "\(current) events in \(window) against \(previous) \(comparedTo) earlier (\(change.formatted)%)"
        }
    }
}

/// Where triggers read counters from: the engine's per-event cache, or the context's counts directly.
protocol CountSource {
    mutating func count(_ metric: CountMetric, _ window: Interval, _ shift: Interval?) -> Int
}

/// Reads the context's counters with no cache, for `explain`.
struct DirectCounts: CountSource {
    let counts: any IssueCounts
    func count(_ metric: CountMetric, _ window: Interval, _ shift: Interval?) -> Int {
        counts.count(metric, in: window, endingAgo: shift)
    }
}
