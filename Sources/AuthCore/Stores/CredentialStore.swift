#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Password hashes and failed-attempt counters (`credentials`), in a tenant's schema.
public struct CredentialStore: Sendable {
    public init() {}

    public func insert(userID: UUID, passwordHash: String, on db: some PGQueryable) async throws {
        try await db.query("INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)", userID, passwordHash)
    }

    /// A verified login, in one statement: confirms the credential row is still the hash that
    /// was verified outside the transaction (nil when a password change raced the login), clears
    /// the counter, stores a rehash, stamps `last_login_at`, locks the user row (so concurrent
    /// logins of one user evict sessions in turn), and returns the user with its stored roles.
    public func confirmLogin(userID: UUID, verifiedHash: String, rehash: String?, on db: some PGQueryable) async throws
        -> (user: User, roles: [String], permissions: [String])?
    {
        let rows = try await db.query(
            """
            WITH c AS (
                UPDATE credentials SET failed_attempts = 0, lockouts = 0, locked_until = NULL,
                    password_hash = coalesce($3, password_hash),
                    updated_at = CASE WHEN $3::text IS NULL THEN updated_at ELSE now() END
                WHERE user_id = $1 AND password_hash = $2 RETURNING user_id
            ), u AS (
                UPDATE users SET last_login_at = now() WHERE id = $1 AND EXISTS (SELECT 1 FROM c) RETURNING *
            )
            SELECT \(User.prefixedColumns), \(RoleStore.storedRolesColumns(user: "u.id"))
            FROM u
            """, userID, verifiedHash, rehash)
        guard let row = rows.first else { return nil }
        let (roles, permissions) = try RoleStore.storedRoles(row)
        return (try User(row: row, prefix: "u_"), roles, permissions)
    }

    /// A failed password: counts it (committed even though the login fails) — unless the account
    /// is locked meanwhile (requests that read it unlocked and failed after the lock engaged do
    /// not lock it again, so a burst cannot escalate the lock). The failure that
    /// reaches `policy.threshold` locks the account for `base × 2^lockouts` (at most `maximum`)
    /// and starts the count again; returns the end of that lock, nil when this failure did not lock.
    public func recordFailure(userID: UUID, policy: LockoutPolicy, on db: some PGQueryable) async throws -> Date? {
        let rows = try await db.query(
            """
            WITH old AS (
                SELECT user_id, $2::int > 0 AND failed_attempts + 1 >= $2 AS locks, lockouts
                FROM credentials WHERE user_id = $1 AND (locked_until IS NULL OR locked_until <= now()) FOR UPDATE
            )
            UPDATE credentials c SET
                failed_attempts = CASE WHEN old.locks THEN 0 ELSE c.failed_attempts + 1 END,
                lockouts = CASE WHEN old.locks THEN c.lockouts + 1 ELSE c.lockouts END,
                locked_until = CASE WHEN old.locks
                    THEN now() + make_interval(secs => least($3::float8 * power(2, least(old.lockouts, 40)), $4::float8))
                    ELSE c.locked_until END,
                last_failed_at = now()
            FROM old WHERE c.user_id = old.user_id
            RETURNING old.locks, c.locked_until
            """, userID, policy.threshold, policy.base.timeInterval, policy.maximum.timeInterval)
        guard let row = rows.first, try row.decode("locks", as: Bool.self) else { return nil }
        return try row.decode("locked_until", as: Date.self)
    }

    /// The user's password hash and whether the account is locked now (nil: no password, e.g.
    /// an invitation not yet accepted).
    public func passwordState(userID: UUID, on db: some PGQueryable) async throws -> (hash: String, locked: Bool)? {
        guard let row = try await db.query(
            "SELECT password_hash, coalesce(locked_until > now(), false) AS locked FROM credentials WHERE user_id = $1", userID
        ).first else { return nil }
        return (try row.decode("password_hash"), try row.decode("locked"))
    }

    /// Sets a new password hash (making the credential if the account had none) — only if the
    /// stored one is still `expected` when given (a change raced by another is refused: false) — stamps `password_changed_at` (which voids
    /// older reset tokens) and clears failures and lockout: the owner proved who they are.
    public func setPassword(userID: UUID, hash: String, expected: String? = nil, on db: some PGQueryable) async throws -> Bool {
        let rows = try await db.query(
            """
            INSERT INTO credentials AS c (user_id, password_hash) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, password_changed_at = now(),
                updated_at = now(), failed_attempts = 0, lockouts = 0, locked_until = NULL
            WHERE $3::text IS NULL OR c.password_hash = $3
            RETURNING user_id
            """, userID, hash, expected)
        return !rows.isEmpty
    }
}
