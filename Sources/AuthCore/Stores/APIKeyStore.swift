#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `api_keys`, in a tenant's schema. Times are judged by the database's clock.
public struct APIKeyStore: Sendable {
    /// A key as listed (never its secret).
    public struct Listed: Sendable {
        public var id: UUID
        public var name: String
        public var publicKey: String
        public var createdAt: Date
        public var expiresAt: Date?
        public var revokedAt: Date?
        public var lastUsedAt: Date?
        public var expired: Bool

        init(row: PGRow) throws {
            id = try row.decode("id")
            name = try row.decode("name")
            publicKey = try row.decode("public_key")
            createdAt = try row.decode("created_at")
            expiresAt = try row.decode("expires_at", as: Date?.self)
            revokedAt = try row.decode("revoked_at", as: Date?.self)
            lastUsedAt = try row.decode("last_used_at", as: Date?.self)
            expired = try row.decode("expired")
        }

        public var json: JSONObject {
            func date(_ d: Date?) -> JSONValue { d.map { .string(ISO8601.format($0)) } ?? .null }
            return [
                "id": .string(id.uuidString.lowercased()), "name": .string(name), "publicKey": .string(publicKey),
                "createdAt": date(createdAt), "expiresAt": date(expiresAt), "revokedAt": date(revokedAt), "lastUsedAt": date(lastUsedAt),
                "isActive": .bool(revokedAt == nil && !expired),
            ]
        }
    }

    /// What a request's key found: the key's state, its owner and the owner's stored roles.
    public struct Found: Sendable {
        public var id: UUID
        public var secretDigest: [UInt8]
        public var revoked: Bool
        public var expired: Bool
        public var user: User
        public var roles: [String]
        public var permissions: [String]
    }

    static let listColumns = "id, name, public_key, created_at, expires_at, revoked_at, last_used_at, coalesce(expires_at <= now(), false) AS expired"

    public init() {}

    public func insert(
        userID: UUID, name: String, publicKey: String, secretDigest: [UInt8], lifetime: Duration?, on db: some PGQueryable
    ) async throws -> Listed {
        let rows = try await db.query(
            """
            INSERT INTO api_keys (user_id, name, public_key, secret_hash, expires_at)
            VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING \(Self.listColumns)
            """, userID, name, publicKey, PGBind.bytea(secretDigest), lifetime?.timeInterval)
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        return try Listed(row: row)
    }

    public func list(userID: UUID, on db: some PGQueryable) async throws -> [Listed] {
        try await db.query("SELECT \(Self.listColumns) FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id", userID)
            .map(Listed.init(row:))
    }

    /// Revokes one of the owner's keys; nil when the owner has no such key.
    public func revoke(id: UUID, userID: UUID, on db: some PGQueryable) async throws -> Listed? {
        try await db.query(
            """
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND user_id = $2
            RETURNING \(Self.listColumns)
            """, id, userID
        ).first.map(Listed.init(row:))
    }

    /// Revokes every live key of the user (their password was reset: whoever made a key with the
    /// old one must not keep it); returns how many.
    public func revokeAll(userID: UUID, on db: some PGQueryable) async throws -> Int {
        try await db.query("UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id", userID).count
    }

    /// The key with this public part, with its owner (one round trip).
    public func find(publicKey: String, on db: some PGQueryable) async throws -> Found? {
        let rows = try await db.query(
            """
            SELECT k.id AS key_id, k.secret_hash, k.revoked_at IS NOT NULL AS revoked, coalesce(k.expires_at <= now(), false) AS expired,
                   \(User.prefixedColumns), \(RoleStore.storedRolesColumns(user: "u.id"))
            FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.public_key = $1
            """, publicKey)
        guard let row = rows.first else { return nil }
        let (roles, permissions) = try RoleStore.storedRoles(row)
        return Found(
            id: try row.decode("key_id"), secretDigest: try row.decode("secret_hash", as: PGBytes.self).bytes, revoked: try row.decode("revoked"),
            expired: try row.decode("expired"), user: try User(row: row, prefix: "u_"), roles: roles, permissions: permissions)
    }

    /// Stamps a use, at most once a minute per key (not a write per request).
    public func touch(id: UUID, on db: some PGQueryable) async throws {
        try await db.query(
            "UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')", id)
    }
}
