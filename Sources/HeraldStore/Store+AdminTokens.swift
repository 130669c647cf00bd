import Foundation
import GRDB

/// What an admin token may do: `read` the admin API, `act` on issues through it, `admin` everything
/// (reloading the rules included). Each includes the ones before it.
public enum AdminScope: String, Sendable, Hashable, CaseIterable, Comparable {
    case read, act, admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .act: 1
        case .admin: 2
        }
    }

    public static func < (lhs: AdminScope, rhs: AdminScope) -> Bool { lhs.rank < rhs.rank }
}

/// A named admin token as the store keeps it: only the token's SHA-256.
public struct AdminToken: Sendable, Hashable {
    public var name: String
    public var scope: AdminScope
    public var createdAt: Date
    public var lastUsedAt: Date?
}

extension Store {
    /// Records a token by the hash of its secret. Names are unique among tokens not revoked.
    public func createAdminToken(name: String, hash: String, scope: AdminScope, now: Date = Date()) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO admin_tokens (name, token_hash, scope, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, hash, scope.rawValue, now.timeIntervalSince1970])
        }
    }

    /// The token with this secret's hash, and its use recorded (at most once a minute).
    public func adminToken(hash: String, now: Date = Date()) async throws -> AdminToken? {
        let token = try await pool.read { db -> AdminToken? in
            try Row.fetchOne(db, sql: "SELECT * FROM admin_tokens WHERE token_hash = ?", arguments: [hash]).flatMap(AdminToken.init(row:))
        }
        guard let token else { return nil }
        if now.timeIntervalSince1970 - (token.lastUsedAt?.timeIntervalSince1970 ?? 0) >= 60 {
            try await pool.write { db in
                try db.execute(sql: "UPDATE admin_tokens SET last_used_at = ? WHERE name = ?", arguments: [now.timeIntervalSince1970, token.name])
            }
        }
        return token
    }

    public func adminTokens() async throws -> [AdminToken] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM admin_tokens ORDER BY name").compactMap(AdminToken.init(row:))
        }
    }

    /// Deletes the token; answers false when there is none by that name. Takes effect at the next request.
    public func revokeAdminToken(name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM admin_tokens WHERE name = ?", arguments: [name])
            return db.changesCount == 1
        }
    }
}

extension AdminToken {
    init?(row: Row) {
        guard let scope = AdminScope(rawValue: row["scope"]) else { return nil }
        self.init(
            name: row["name"], scope: scope, createdAt: Date(timeIntervalSince1970: row["created_at"]),
            lastUsedAt: (row["last_used_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}
