#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `one_time_codes` and `password_reset_tokens`, in a tenant's schema. Times are the database's.
public struct OneTimeCodeStore: Sendable {
    /// A stored code as a verification reads it (locked for the rest of the transaction).
    public struct Stored: Sendable {
        public var channel: String
        public var recipient: String
        public var codeHMAC: String
        public var expired: Bool
    }

    public init() {}

    /// Stores a code's HMAC for `user` and `purpose`, replacing any earlier one; returns when it expires.
    public func replace(
        userID: UUID, purpose: String, channel: String, recipient: String, codeHMAC: String, maxAttempts: Int, ttl: Duration,
        on db: some PGQueryable
    ) async throws -> Date {
        let rows = try await db.query(
            """
            INSERT INTO one_time_codes (user_id, purpose, channel, recipient, code_hmac, max_attempts, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
            ON CONFLICT (user_id, purpose) DO UPDATE SET channel = excluded.channel, recipient = excluded.recipient,
                code_hmac = excluded.code_hmac, attempts = 0, max_attempts = excluded.max_attempts,
                expires_at = excluded.expires_at, created_at = now()
            RETURNING expires_at
            """, userID, purpose, channel, recipient, codeHMAC, maxAttempts, ttl.timeInterval)
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        return try row.decode("expires_at")
    }

    /// The live code of `user` and `purpose`, locked (nil: none).
    public func lock(userID: UUID, purpose: String, on db: some PGQueryable) async throws -> Stored? {
        let rows = try await db.query(
            """
            SELECT channel, recipient, code_hmac, expires_at <= now() AS expired
            FROM one_time_codes WHERE user_id = $1 AND purpose = $2 FOR UPDATE
            """, userID, purpose)
        guard let row = rows.first else { return nil }
        return Stored(
            channel: try row.decode("channel"), recipient: try row.decode("recipient"), codeHMAC: try row.decode("code_hmac"),
            expired: try row.decode("expired"))
    }

    /// A wrong guess: deletes the code if it was its last allowed one, else counts it. (Two
    /// statements: one statement cannot both update a row in a CTE and delete it.)
    public func failedAttempt(userID: UUID, purpose: String, on db: some PGQueryable) async throws {
        let spent = try await db.query(
            "DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2 AND attempts + 1 >= max_attempts RETURNING 1", userID, purpose)
        guard spent.isEmpty else { return }
        try await db.query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE user_id = $1 AND purpose = $2", userID, purpose)
    }

    /// Removes the code (used, expired, or made void).
    public func delete(userID: UUID, purpose: String, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM one_time_codes WHERE user_id = $1 AND purpose = $2", userID, purpose)
    }

    /// The round trip a request for a missing tenant makes in place of a tenant's statement, so
    /// that its answer takes as long as a missing account's (nothing is read or written).
    public func placeholder(on db: some PGQueryable) async throws {
        try await db.query("SELECT NULL::uuid AS user_id WHERE false")
    }

    // MARK: reset tokens

    /// Stores a reset token's digest, replacing the user's earlier ones unless `keepingOthers`
    /// (an invitation must not void a reset the owner asked for); returns when it expires.
    public func insertResetToken(userID: UUID, digest: [UInt8], ttl: Duration, keepingOthers: Bool = false, on db: some PGQueryable)
        async throws -> Date
    {
        if !keepingOthers { try await db.query("DELETE FROM password_reset_tokens WHERE user_id = $1", userID) }
        let rows = try await db.query(
            """
            INSERT INTO password_reset_tokens (token_hash, user_id, expires_at)
            VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at
            """, PGBind.bytea(digest), userID, ttl.timeInterval)
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        return try row.decode("expires_at")
    }

    /// What a reset token's digest finds: its user, and whether it has expired or was made
    /// before the password last changed (void either way). Locked.
    public func lockResetToken(digest: [UInt8], on db: some PGQueryable) async throws -> (userID: UUID, expired: Bool, superseded: Bool)? {
        let rows = try await db.query(
            """
            SELECT t.user_id, t.expires_at <= now() AS expired,
                   coalesce(t.created_at < c.password_changed_at, false) AS superseded
            FROM password_reset_tokens t LEFT JOIN credentials c ON c.user_id = t.user_id
            WHERE t.token_hash = $1 FOR UPDATE OF t
            """, PGBind.bytea(digest))
        guard let row = rows.first else { return nil }
        return (try row.decode("user_id"), try row.decode("expired"), try row.decode("superseded"))
    }

    /// Every reset token of the user goes (one was used, or the password changed).
    public func deleteResetTokens(userID: UUID, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM password_reset_tokens WHERE user_id = $1", userID)
    }
}
