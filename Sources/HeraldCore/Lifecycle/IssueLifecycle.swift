import Foundation

/// A change a person makes to an issue.
public enum IssueChange: Sendable, Hashable {
    /// Resolve; with `inNextRelease`, only an event from a release other than the issue's latest one regresses it.
    case resolve(inNextRelease: Bool)
    case unresolve
    case ignore(IgnoreRequest)
    case assign(Assignee?)

    /// Ignoring again for a new span is a real change even when the issue reads "ignored" before and after.
    public var isRenewal: Bool {
        switch self {
        case .ignore(.duration), .ignore(.moreEvents): true
        default: false
        }
    }
}

/// How long to ignore an issue, as people ask for it.
public enum IgnoreRequest: Sendable, Hashable {
    case forever
    case duration(TimeInterval)
    case moreEvents(Int)
}

/// Every way an issue's state can change, as pure functions: an event arriving, a person acting, an ignore
/// running out. The store runs them inside its transactions and keeps only the SQL; what the rules see of
/// a change (`IssueState`) is decided here and nowhere else.
public enum IssueLifecycle {
    /// The issue an event opens: unresolved and new, seen once.
    public static func opened(
        by event: Event, id: Int64, projectID: Int, number: Int, projectSlug: String, fingerprint: String, now: Date
    ) -> Issue {
        Issue(
            id: id, projectID: projectID, number: number, shortID: Issue.shortID(slug: projectSlug, number: number),
            fingerprint: fingerprint, title: event.title, culprit: event.culprit, level: event.level,
            status: .unresolved, substatus: .new, firstSeen: now, lastSeen: now, timesSeen: 1, usersSeen: 0,
            lastRelease: event.release)
    }

    /// An event of an existing issue arrives: the issue as the event leaves it, and the transition the
    /// triggers see. The transition is nil when the issue stays quiet: resolved in the next release and the
    /// event is from the same release, or ignored and the ignore still holds.
    ///
    /// - A resolved issue regresses, unless it was resolved in the next release and the event comes from
    ///   the release it was resolved in (or names none).
    /// - An ignored issue reappears once its ignore has lapsed (its time passed, or the count of events is
    ///   reached with this one).
    /// - An unresolved issue whose timed ignore ran out before this event (`reappeared`) fires reappeared once.
    /// - `new` and `regressed` turn `ongoing` a week after they began.
    public static func eventArrived(at issue: Issue, level: Level, release: String?, now: Date)
        -> (issue: Issue, state: IssueState?)
    {
        var issue = issue
        issue.timesSeen += 1
        issue.lastSeen = now
        issue.level = level
        if let release { issue.lastRelease = release }
        let state: IssueState?
        switch issue.status {
        case .resolved:
            if issue.resolution?.isRegression(release: release) ?? true {
                issue.status = .unresolved
                issue.substatus = .regressed
                issue.regressedAt = now
                issue.resolution = nil
                state = .regression
            } else {
                state = nil
            }
        case .ignored:
            if issue.ignore?.hasLapsed(timesSeen: issue.timesSeen, now: now) ?? true {
                issue.status = .unresolved
                issue.substatus = .ongoing
                issue.ignore = nil
                state = .reappeared
            } else {
                state = nil
            }
        case .unresolved:
            if issue.substatus == .reappeared {
                issue.substatus = .ongoing
                state = .reappeared
            } else {
                state = .ongoing
            }
        }
        if issue.status == .unresolved, issue.substatus != .ongoing,
            let freshSince = issue.substatus == .regressed ? issue.regressedAt : issue.firstSeen,
            now.timeIntervalSince(freshSince) >= IssueSubstatus.freshness
        {
            issue.substatus = .ongoing
        }
        return (issue, state)
    }

    /// A person's change applied to the issue.
    public static func applying(_ change: IssueChange, to issue: Issue, now: Date) -> Issue {
        var issue = issue
        switch change {
        case .resolve(let inNextRelease):
            issue.status = .resolved
            issue.ignore = nil
            issue.resolution = Resolution(at: now, inNextReleaseAfter: inNextRelease ? issue.lastRelease : nil)
        case .unresolve:
            issue.status = .unresolved
            issue.substatus = .ongoing
            issue.ignore = nil
            issue.resolution = nil
        case .ignore(let request):
            issue.status = .ignored
            issue.resolution = nil
            issue.ignore = switch request {
            case .forever: .forever
            case .duration(let seconds): .until(now.addingTimeInterval(seconds))
            case .moreEvents(let count): .untilMoreEvents(count: count, baseline: issue.timesSeen)
            }
        case .assign(let assignee):
            issue.assignee = assignee
        }
        return issue
    }

    /// Whether a change is worth recording: it alters how the issue reads, or renews an ignore.
    public static func isChange(_ change: IssueChange, from old: Issue, to new: Issue) -> Bool {
        old.stateDescription != new.stateDescription || change.isRenewal
    }

    /// The issue once a timed ignore has run out with no event since: unresolved, substatus `reappeared`, so
    /// its next event fires `reappeared`. nil while the ignore holds, or for an ignore that only events end.
    public static func ignoreLapsed(_ issue: Issue, now: Date) -> Issue? {
        guard issue.status == .ignored, case .until(let until) = issue.ignore, until <= now else { return nil }
        var lapsed = issue
        lapsed.status = .unresolved
        lapsed.substatus = .reappeared
        lapsed.ignore = nil
        return lapsed
    }

    /// What the audit trail says of an ignore that ran out.
    public static let lapseSummary = "No longer ignored: the time it was ignored for has passed"
}

extension Issue {
    /// The issue's state as people read it, for the audit trail: "resolved", "ignored until 10 more events;
    /// assigned to bob@example.com".
    public var stateDescription: String {
        var text: String
        switch status {
        case .unresolved: text = "unresolved"
        case .resolved:
            text = resolution?.inNextReleaseAfter.map { "resolved in the next release after \($0)" } ?? "resolved"
        case .ignored:
            switch ignore {
            case .forever, nil: text = "ignored forever"
            case .until(let date): text = "ignored until \(Timestamp.text(date))"
            case .untilMoreEvents(let count, let baseline): text = "ignored until \(count) more events after \(baseline)"
            }
        }
        if let assignee { text += "; assigned to \(assignee)" }
        return text
    }
}
