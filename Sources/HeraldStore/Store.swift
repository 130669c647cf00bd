// HeraldStore keeps Herald's state in one SQLite file through GRDB: projects, issues and their counters,
// recent events, rule firings and the outbox that delivery drains.
//
// The ingest path writes whole batches of events in one transaction (`Store.ingest`), so a commit, and its
// fsync, is shared by every event of the batch. Readers (the admin API) run concurrently on WAL snapshots.

import Foundation
import GRDB
import HeraldCore

/// Herald's database.
public final class Store: Sendable {
    /// Retention settings.
    public struct Configuration: Sendable {
        /// Events kept per issue; older ones are deleted as new ones arrive, unless a pending delivery
        /// still refers to them.
        public var eventsPerIssue: Int
        /// How long counters, claims, firings and finished deliveries are kept.
        public var counterRetention: TimeInterval

        public static let defaultEventsPerIssue = 100
        public static let defaultCounterRetention: TimeInterval = 30 * 86_400

        public init(
            eventsPerIssue: Int = Self.defaultEventsPerIssue,
            counterRetention: TimeInterval = Self.defaultCounterRetention
        ) {
            self.eventsPerIssue = eventsPerIssue
            self.counterRetention = counterRetention
        }
    }

    let pool: DatabasePool
    public let configuration: Configuration
    public let path: String

    /// Opens (creating when missing) the database at `path` and brings its schema up to date.
    public init(path: String, configuration: Configuration = Configuration()) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var options = GRDB.Configuration()
        // Every commit reaches the disk before it returns, so an acknowledged event survives a power cut,
        // not only a crash. Batched commits keep this affordable.
        options.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        options.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: options)
        self.configuration = configuration
        self.path = path
        try Schema.migrator.migrate(pool)
    }

    /// Records the configured projects: ids stay, slugs follow the config.
    public func syncProjects(_ projects: [(id: Int, slug: String)]) throws {
        try pool.write { db in
            for project in projects {
                try db.execute(
                    sql: """
                        INSERT INTO projects (id, slug) VALUES (?, ?)
                        ON CONFLICT (id) DO UPDATE SET slug = excluded.slug
                        """,
                    arguments: [project.id, project.slug])
            }
        }
    }

    /// Whether the database answers a query; what `/healthz` reports.
    public func isReachable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }
}
