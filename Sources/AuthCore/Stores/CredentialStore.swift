#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Password hashes and failed-attempt counters (`credentials`), inside a tenant transaction.
public struct CredentialStore: Sendable {
    public init() {}

    public func insert(userID: UUID, passwordHash: String, in tx: PGTransaction) async throws {
        try await tx.query("INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)", userID, passwordHash)
    }

    /// Locks the credential row for this login and confirms it is the one that was verified
    /// outside the transaction (a concurrent password change makes this false).
    public func lockUnchanged(userID: UUID, verifiedHash: String, in tx: PGTransaction) async throws -> Bool {
        let rows = try await tx.query(
            "SELECT password_hash FROM credentials WHERE user_id = $1 FOR UPDATE", userID)
        return try rows.first?.decode("password_hash", as: String.self) == verifiedHash
    }

    /// A successful login: clears the counter, and stores a rehash when parameters changed.
    public func recordSuccess(userID: UUID, rehash: String?, in tx: PGTransaction) async throws {
        try await tx.query(
            """
            UPDATE credentials SET failed_attempts = 0, password_hash = coalesce($2, password_hash),
                updated_at = CASE WHEN $2::text IS NULL THEN updated_at ELSE now() END
            WHERE user_id = $1
            """, userID, rehash)
    }

    /// A failed password: counts it (committed even though the login fails).
    public func recordFailure(userID: UUID, in tx: PGTransaction) async throws {
        try await tx.query(
            "UPDATE credentials SET failed_attempts = failed_attempts + 1, last_failed_at = now() WHERE user_id = $1", userID)
    }
}
