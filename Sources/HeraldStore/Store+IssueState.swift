import Foundation
import GRDB
import HeraldCore

extension Store {
    /// Applies a change to an issue and returns the issue as it now stands. No audit record, no message
    /// updates: the path people take is `act`.
    @discardableResult
    public func change(issue id: Int64, _ change: IssueChange, now: Date = Date()) async throws -> Issue {
        try await pool.write { db in
            guard let issue = try IssueRow.fetchOne(db, IssueRow.byID, [id]) else {
                throw StoreError.unknownIssue(String(id))
            }
            let changed = IssueLifecycle.applying(change, to: issue, now: now)
            try Self.save(changed, db)
            return changed
        }
    }

    static func save(_ issue: Issue, _ db: Database) throws {
        var arguments = issue.stateArguments
        arguments += [issue.id]
        try db.cachedStatement(sql: "UPDATE issues SET \(Issue.stateAssignments) WHERE id = ?")
            .execute(arguments: arguments)
    }
}
