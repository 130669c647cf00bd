import Foundation
import GRDB

/// What a backup or a restore holds, counted in the copy itself.
public struct BackupReport: Sendable, Equatable {
    public var path: String
    public var bytes: Int
    public var issues: Int
    public var events: Int
    public var deliveries: Int
    public var actions: Int
    /// The newest schema migration the copy has.
    public var schema: String
}

/// Why a backup or a restore was refused.
public enum BackupError: Error, CustomStringConvertible {
    case exists(String)
    case notHerald(String, reason: String)
    case newerSchema(String, migrations: [String])
    case damaged(String, check: String)

    public var description: String {
        switch self {
        case .exists(let path): "\(path) exists already; Herald does not overwrite a file with a backup"
        case .notHerald(let path, let reason): "\(path) is not a Herald database: \(reason)"
        case .newerSchema(let path, let migrations):
            "\(path) comes from a newer Herald (schema \(migrations.joined(separator: ", "))); restore it with that version"
        case .damaged(let path, let check): "\(path) fails SQLite's integrity check: \(check)"
        }
    }
}

extension Store {
    /// A consistent copy of the whole database at `path`, made while the server runs: SQLite's online backup
    /// from one read transaction (one snapshot, so it is consistent; writers go on meanwhile, since the
    /// database is in WAL mode). The copy is checked with `PRAGMA integrity_check` and counted.
    ///
    /// The copy holds everything, secrets Herald made for itself included: the keys that sign Mattermost
    /// buttons and console cookies (`settings`), and the hashes of console sessions and sign-in links.
    public func backup(to path: String) throws -> BackupReport {
        guard !FileManager.default.fileExists(atPath: path) else { throw BackupError.exists(path) }
        let destination = try DatabaseQueue(path: path)
        try pool.backup(to: destination)
        try destination.close()
        return try Self.inspect(path)
    }

    /// Checks that `path` is an intact Herald database this version can open, and counts what it holds.
    public static func inspect(_ path: String) throws -> BackupReport {
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw BackupError.notHerald(path, reason: "SQLite cannot open it (\(error))")
        }
        defer { try? queue.close() }
        return try queue.read { db in
            let check: String
            do {
                check = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
            } catch {
                throw BackupError.notHerald(path, reason: "SQLite cannot read it (\(error))")
            }
            guard check == "ok" else { throw BackupError.damaged(path, check: String(check.prefix(500))) }
            guard try db.tableExists("grdb_migrations"), try db.tableExists("issues") else {
                throw BackupError.notHerald(path, reason: "it has no issues table or schema record")
            }
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            let known = Set(Schema.migrator.migrations)
            let unknown = applied.filter { !known.contains($0) }
            guard unknown.isEmpty else { throw BackupError.newerSchema(path, migrations: unknown) }
            func count(_ table: String) throws -> Int {
                try db.tableExists(table) ? Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 : 0
            }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return BackupReport(
                path: path, bytes: bytes, issues: try count("issues"), events: try count("events"),
                deliveries: try count("outbox"), actions: try count("issue_actions"),
                schema: Schema.migrator.migrations.last { applied.contains($0) } ?? "none")
        }
    }

    /// Puts the backup at `backup` in place of the database at `path`, which no server may be using (the
    /// caller holds its lock). The backup is checked first; the database it replaces is kept beside it as
    /// `<path>.before-restore-<time>`, with its WAL, so a restore can itself be undone. The next start
    /// brings the restored schema up to date.
    public static func restore(from backup: String, to path: String, now: Date = Date()) throws -> (BackupReport, kept: String?) {
        let report = try inspect(backup)
        let files = FileManager.default
        let staging = path + ".restoring"
        try? files.removeItem(atPath: staging)
        // Through SQLite, not a file copy: the staged file is a complete database even if the backup was
        // taken in WAL mode.
        var readOnly = GRDB.Configuration()
        readOnly.readonly = true
        let source = try DatabaseQueue(path: backup, configuration: readOnly)
        let target = try DatabaseQueue(path: staging)
        try source.backup(to: target)
        try target.close()
        try source.close()
        var kept: String?
        if files.fileExists(atPath: path) {
            let stamp = Int(now.timeIntervalSince1970)
            let aside = "\(path).before-restore-\(stamp)"
            try files.moveItem(atPath: path, toPath: aside)
            for suffix in ["-wal", "-shm"] where files.fileExists(atPath: path + suffix) {
                try files.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            kept = aside
        }
        try files.moveItem(atPath: staging, toPath: path)
        return (report, kept)
    }

    /// Forgets a key Herald made for itself (`button-signing`, `console`), so the next start makes a new one.
    /// Answers false for a name Herald does not know.
    public func forgetKey(_ name: String) throws -> Bool {
        guard let key = ["button-signing": "callback_key", "console": "console_key"][name] else { return false }
        try pool.write { db in try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [key]) }
        return true
    }
}
