import Foundation
import GRDB

/// A signed-in person's session in the web console, as the store keeps it.
public struct ConsoleSession: Sendable, Hashable {
    public var email: String
    /// The token every form of this session must carry.
    public var csrf: String
    /// How the person signed in: `link` or `oidc`.
    public var method: String
    public var createdAt: Date
    public var expiresAt: Date
}

/// What a one-time sign-in link is worth when someone opens it.
public enum SignInLinkState: Sendable, Equatable {
    case valid(email: String, expiresAt: Date)
    case used
    case expired
    case unknown
}

extension Store {
    // MARK: Sessions

    /// Starts a session. `idHash` is a hash of the id the browser holds; the id itself is never stored.
    public func startSession(
        idHash: String, email: String, csrf: String, method: String, lifetime: TimeInterval, now: Date = Date()
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO console_sessions (id_hash, email, csrf, method, created_at, last_seen_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [idHash, email, csrf, method, now.timeIntervalSince1970, now.timeIntervalSince1970,
                            now.timeIntervalSince1970 + lifetime])
        }
    }

    /// The session, if it has neither expired nor been idle longer than `idle`; using it counts as activity
    /// (recorded at most once a minute, so reading pages does not write on every request). An expired or idle
    /// session is deleted.
    public func session(idHash: String, idle: TimeInterval, now: Date = Date()) async throws -> ConsoleSession? {
        let seconds = now.timeIntervalSince1970
        let found = try await pool.read { db -> (ConsoleSession, lastSeen: Double)? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
            else { return nil }
            let session = ConsoleSession(
                email: row["email"], csrf: row["csrf"], method: row["method"],
                createdAt: Date(timeIntervalSince1970: row["created_at"]),
                expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            return (session, row["last_seen_at"])
        }
        guard let (session, lastSeen) = found else { return nil }
        guard now < session.expiresAt, seconds - lastSeen < idle else {
            try await endSession(idHash: idHash)
            return nil
        }
        if seconds - lastSeen >= 60 {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?", arguments: [seconds, idHash])
            }
        }
        return session
    }

    /// Ends a session (sign-out); ending one that is gone does nothing.
    public func endSession(idHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }

    // MARK: One-time sign-in links

    /// Records a sign-in link for `email`, good once until `lifetime` has passed. `via` says who asked
    /// (`Slack`, `Mattermost`, `the command line`).
    public func issueSignInLink(
        tokenHash: String, email: String, via: String, lifetime: TimeInterval, now: Date = Date()
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sign_in_links (token_hash, email, issued_via, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [tokenHash, email, via, now.timeIntervalSince1970, now.timeIntervalSince1970 + lifetime])
        }
    }

    /// What the link is worth, without using it.
    public func signInLink(tokenHash: String, now: Date = Date()) async throws -> SignInLinkState {
        try await pool.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT email, expires_at, used_at FROM sign_in_links WHERE token_hash = ?",
                arguments: [tokenHash])
            else { return .unknown }
            if (row["used_at"] as Double?) != nil { return .used }
            let expires: Double = row["expires_at"]
            guard now.timeIntervalSince1970 < expires else { return .expired }
            return .valid(email: row["email"], expiresAt: Date(timeIntervalSince1970: expires))
        }
    }

    /// Uses the link: the email it signs in, once. A second use, even at the same instant from another
    /// request, finds it used; the check and the mark are one statement.
    public func redeemSignInLink(tokenHash: String, now: Date = Date()) async throws -> String? {
        try await pool.write { db in
            try String.fetchOne(
                db,
                sql: """
                    UPDATE sign_in_links SET used_at = ?
                    WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
                    RETURNING email
                    """,
                arguments: [now.timeIntervalSince1970, tokenHash, now.timeIntervalSince1970])
        }
    }

    /// Deletes sessions past their end and links a day past theirs.
    public func pruneSignIns(now: Date = Date()) async throws {
        let seconds = now.timeIntervalSince1970
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE expires_at <= ?", arguments: [seconds])
            try db.execute(sql: "DELETE FROM sign_in_links WHERE expires_at <= ?", arguments: [seconds - 86_400])
        }
    }

    /// A random key made once per database and kept in `settings`: what signs the console's cookies.
    public func consoleKey() throws -> [UInt8] {
        try setting(key: "console_key")
    }
}
