import Foundation
import GRDB
import HeraldCore

/// A change a person makes to an issue.
public enum IssueChange: Sendable, Hashable {
    /// Resolve; with `inNextRelease`, only an event from a release other than the issue's latest one regresses it.
    case resolve(inNextRelease: Bool)
    case unresolve
    case ignore(IgnoreRequest)
    case assign(Assignee?)
}

/// How long to ignore an issue, as people ask for it.
public enum IgnoreRequest: Sendable, Hashable {
    case forever
    case duration(TimeInterval)
    case moreEvents(Int)
}

extension Store {
    /// Applies a change to an issue and returns the issue as it now stands. No audit record, no message
    /// updates: the path people take is `act`.
    @discardableResult
    public func change(issue id: Int64, _ change: IssueChange, now: Date = Date()) async throws -> Issue {
        try await pool.write { db in
            guard let issue = try IssueRow.fetchOne(db, IssueRow.byID, [id]) else {
                throw StoreError.unknownIssue(String(id))
            }
            let changed = Self.apply(change, to: issue, now: now)
            try Self.save(changed, db)
            return changed
        }
    }

    static func apply(_ change: IssueChange, to original: Issue, now: Date) -> Issue {
        var issue = original
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

    static func save(_ issue: Issue, _ db: Database) throws {
        var arguments = issue.stateArguments
        arguments += [issue.id]
        try db.execute(sql: "UPDATE issues SET \(Issue.stateAssignments) WHERE id = ?", arguments: arguments)
    }
}
