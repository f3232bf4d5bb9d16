#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// A stored passkey, as its owner sees it (never the key itself).
public struct Passkey: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    public var credentialID: [UInt8]
    public var publicKey: COSEKey
    public var signCount: UInt32
    public var backupEligible: Bool
    public var backedUp: Bool
    public var transports: [String]
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()), "name": .string(name), "credentialId": .string(WebAuthnBase64.encode(credentialID)),
            "algorithm": .int(publicKey.algorithm), "backupEligible": .bool(backupEligible), "backedUp": .bool(backedUp),
            "transports": .array(transports.map(JSONValue.string)), "signCount": .int(Int(signCount)),
            "createdAt": .string(ISO8601.format(createdAt)), "lastUsedAt": lastUsedAt.map { .string(ISO8601.format($0)) } ?? .null,
        ]
    }
}

/// Passkeys and WebAuthn ceremony challenges, in a tenant's schema.
public struct PasskeyStore: Sendable {
    public init() {}

    static let columns = """
        id, user_id, credential_id, algorithm, public_key, sign_count, backup_eligible, backed_up, transports, name, created_at, last_used_at
        """

    /// Records a challenge (its digest) for `ttl`; old expired ones go at the same time.
    public func createChallenge(digest: [UInt8], purpose: String, userID: UUID?, ttl: Duration, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM webauthn_challenges WHERE expires_at < now() - interval '1 hour'")
        try await db.query(
            """
            INSERT INTO webauthn_challenges (digest, purpose, user_id, expires_at)
            VALUES ($1, $2, $3, now() + make_interval(secs => $4))
            """, PGBind.bytea(digest), purpose, userID, ttl.wholeSeconds)
    }

    /// Uses a challenge up (whatever comes next); nil when there is no such live challenge, else
    /// the user it was made for (nil for a login's).
    public func consumeChallenge(digest: [UInt8], purpose: String, on db: some PGQueryable) async throws -> UUID?? {
        let rows = try await db.query(
            "DELETE FROM webauthn_challenges WHERE digest = $1 AND purpose = $2 AND expires_at > now() RETURNING user_id",
            PGBind.bytea(digest), purpose)
        guard let row = rows.first else { return nil }
        return .some(try row.decode("user_id", as: UUID?.self))
    }

    /// 409 `PASSKEY_ALREADY_REGISTERED` for a credential id already stored (in this tenant).
    public func insert(userID: UUID, _ credential: VerifiedRegistration, transports: [String], name: String, on db: some PGQueryable)
        async throws -> Passkey
    {
        let aaguid = UUID(uuid: Self.tuple(credential.aaguid))  // the parser took exactly 16 bytes
        do {
            let rows = try await db.query(
                """
                INSERT INTO passkeys (user_id, credential_id, algorithm, public_key, sign_count, backup_eligible, backed_up, aaguid, transports, name)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING \(Self.columns)
                """, userID, PGBind.bytea(credential.credentialID), credential.publicKey.algorithm, PGBind.bytea(credential.publicKey.raw),
                Int(credential.signCount), credential.backupEligible, credential.backedUp, aaguid, transports, name)
            guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
            return try Self.passkey(row)
        } catch let error as PGError where error.isUniqueViolation(constraint: "passkeys_credential_id_key") {
            throw AuthError(.passkeyAlreadyRegistered)
        }
    }

    /// The passkey with this credential id, its row locked (its counter is about to move).
    public func find(credentialID: [UInt8], on db: some PGQueryable) async throws -> Passkey? {
        try await db.query("SELECT \(Self.columns) FROM passkeys WHERE credential_id = $1 FOR UPDATE", PGBind.bytea(credentialID))
            .first.map(Self.passkey)
    }

    public func recordUse(id: UUID, signCount: UInt32, backedUp: Bool, on db: some PGQueryable) async throws {
        try await db.query(
            "UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = now() WHERE id = $1", id, Int(signCount), backedUp)
    }

    public func list(userID: UUID, on db: some PGQueryable) async throws -> [Passkey] {
        try await db.query("SELECT \(Self.columns) FROM passkeys WHERE user_id = $1 ORDER BY created_at, id", userID).map(Self.passkey)
    }

    /// Renames one of the user's passkeys; false when the user has no such one.
    public func rename(id: UUID, userID: UUID, name: String, on db: some PGQueryable) async throws -> Bool {
        !(try await db.query("UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2 RETURNING id", id, userID, name)).isEmpty
    }

    public func delete(id: UUID, userID: UUID, on db: some PGQueryable) async throws -> Bool {
        !(try await db.query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING id", id, userID)).isEmpty
    }

    static func passkey(_ row: PGRow) throws -> Passkey {
        let algorithm: Int = try row.decode("algorithm")
        guard let key = COSEKey(algorithm: algorithm, raw: try row.decode("public_key", as: PGBytes.self).bytes) else {
            throw AuthError.internalError("a stored passkey has an unreadable key (algorithm \(algorithm))")
        }
        return Passkey(
            id: try row.decode("id"), userID: try row.decode("user_id"), credentialID: try row.decode("credential_id", as: PGBytes.self).bytes,
            publicKey: key, signCount: UInt32(clamping: try row.decode("sign_count", as: Int.self)),
            backupEligible: try row.decode("backup_eligible"), backedUp: try row.decode("backed_up"), transports: try row.decode("transports"),
            name: try row.decode("name"), createdAt: try row.decode("created_at"), lastUsedAt: try row.decode("last_used_at", as: Date?.self))
    }

    static func tuple(_ b: [UInt8]) -> uuid_t {
        (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
    }
}
