import Foundation
import GRDB

extension Store {
    /// What one pruning pass deleted.
    public struct PruneReport: Sendable, Equatable {
        public var rows: [String: Int] = [:]
        public var total: Int { rows.values.reduce(0, +) }
    }

    /// Deletes what retention no longer keeps: counter buckets, action-interval claims and rule firings older
    /// than the counter retention, and finished deliveries and message handles as old. Events are pruned as they arrive.
    ///
    /// Works in chunks of `chunk` rows, one transaction each, so ingestion is never held up for long.
    public func prune(now: Date = Date(), chunk: Int = 5_000) async throws -> PruneReport {
        let cutoff = now.timeIntervalSince1970 - configuration.counterRetention
        var deletions: [(table: String, sql: String, arguments: StatementArguments)] = []
        for resolution in CounterBuckets.Resolution.allCases {
            let bucket = CounterBuckets.floorDiv(Int(cutoff), resolution.seconds)
            let tables = [("issue_counts", "issue_id, resolution, bucket"),
                          ("issue_bucket_users", "issue_id, resolution, bucket, user_key")]
            for (table, key) in tables {
                deletions.append((table, """
                    DELETE FROM \(table) WHERE (\(key)) IN
                    (SELECT \(key) FROM \(table) WHERE resolution = ? AND bucket < ? LIMIT ?)
                    """, [resolution.rawValue, bucket, chunk]))
            }
        }
        deletions.append(("rule_claims", """
            DELETE FROM rule_claims WHERE (project_id, rule, issue_id) IN
            (SELECT project_id, rule, issue_id FROM rule_claims WHERE fired_at < ? LIMIT ?)
            """, [cutoff, chunk]))
        deletions.append(("rule_firings", """
            DELETE FROM rule_firings WHERE id IN (SELECT id FROM rule_firings WHERE fired_at < ? LIMIT ?)
            """, [cutoff, chunk]))
        deletions.append(("outbox", """
            DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE updated_at < ? AND status NOT IN ('pending', 'retrying') LIMIT ?)
            """, [cutoff, chunk]))

        deletions.append(("message_handles", """
            DELETE FROM message_handles WHERE id IN (SELECT id FROM message_handles WHERE updated_at < ? LIMIT ?)
            """, [cutoff, chunk]))

        var report = PruneReport()
        for deletion in deletions {
            while true {
                let deleted = try await pool.write { db in
                    try db.execute(sql: deletion.sql, arguments: deletion.arguments)
                    return db.changesCount
                }
                report.rows[deletion.table, default: 0] += deleted
                if deleted < chunk { break }
            }
        }
        return report
    }
}
