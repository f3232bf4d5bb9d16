#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// A user's way of logging in through a provider, as listed to its owner.
public struct LinkedIdentity: Sendable, Equatable {
    public var id: UUID
    public var provider: String
    /// The provider's id of the user (for email/phone: the address itself).
    public var providerUserID: String
    public var profile: JSONObject
    public var createdAt: Date
    public var lastUsedAt: Date

    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()), "provider": .string(provider), "providerUserId": .string(providerUserID),
            "profile": .object(profile), "createdAt": .string(ISO8601.format(createdAt)), "lastUsedAt": .string(ISO8601.format(lastUsedAt)),
        ]
    }
}

/// The `identities` rows of external providers (the email/phone rows are `UserStore`'s: they
/// follow the user's addresses).
public struct IdentityStore: Sendable {
    public init() {}

    /// The identity (provider, provider user id) and its user, the identity's row touched (profile,
    /// last use) and the user's row locked.
    public func use(provider: String, subject: String, profile: JSONObject, on db: some PGQueryable) async throws -> UUID? {
        try await db.query(
            """
            UPDATE identities SET metadata = $3, updated_at = now()
            WHERE provider = $1 AND provider_id = $2
            RETURNING user_id
            """, provider, subject, PGBind.jsonb(JSONValue.object(profile).jsonText)
        ).first.map { try $0.decode("user_id") }
    }

    /// Links (provider, subject) to the user; 409 `IDENTITY_ALREADY_LINKED` when another
    /// account has it (a concurrent first login through the same identity).
    public func link(userID: UUID, provider: String, subject: String, profile: JSONObject, on db: some PGQueryable) async throws -> UUID {
        do {
            let row = try await db.query(
                "INSERT INTO identities (user_id, provider, provider_id, metadata) VALUES ($1, $2, $3, $4) RETURNING id",
                userID, provider, subject, PGBind.jsonb(JSONValue.object(profile).jsonText)
            ).first
            guard let row else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
            return try row.decode("id")
        } catch let error as PGError where error.isUniqueViolation(constraint: "identities_provider_key") {
            throw AuthError(.identityAlreadyLinked)
        }
    }

    /// Every identity of the user, oldest first.
    public func list(userID: UUID, on db: some PGQueryable) async throws -> [LinkedIdentity] {
        try await db.query(
            """
            SELECT id, provider, provider_id, metadata::text AS metadata, created_at, updated_at
            FROM identities WHERE user_id = $1 ORDER BY created_at, id
            """, userID
        ).map {
            LinkedIdentity(
                id: try $0.decode("id"), provider: try $0.decode("provider"), providerUserID: try $0.decode("provider_id"),
                profile: try JSONValue.parse(try $0.decode("metadata")).objectValue, createdAt: try $0.decode("created_at"),
                lastUsedAt: try $0.decode("updated_at"))
        }
    }

    /// Removes one of the user's identities; its provider, or nil when the user has no such one.
    public func delete(id: UUID, userID: UUID, on db: some PGQueryable) async throws -> String? {
        try await db.query("DELETE FROM identities WHERE id = $1 AND user_id = $2 RETURNING provider", id, userID)
            .first.map { try $0.decode("provider") }
    }

    /// How many ways the user has to log in: a password (with an address to name it), external
    /// identities, passkeys. The user's row must be locked by the caller (two unlinks racing
    /// would otherwise each see the other's identity).
    public func loginMethods(userID: UUID, on db: some PGQueryable) async throws -> Int {
        let row = try await db.query(
            """
            SELECT (SELECT count(*) FROM credentials WHERE user_id = $1)
                 + (SELECT count(*) FROM identities WHERE user_id = $1 AND provider NOT IN ('email', 'phone'))
                 + (SELECT count(*) FROM passkeys WHERE user_id = $1) AS n
            """, userID
        ).first
        return try row?.decode("n", as: Int.self) ?? 0
    }
}
