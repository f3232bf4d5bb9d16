#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `mfa_devices`, `recovery_codes` and `trusted_devices`, in a tenant's schema.
public struct MFAStore: Sendable {
    /// A TOTP device as stored (the secret still sealed).
    public struct Device: Sendable {
        public var id: UUID
        public var name: String
        public var sealedSecret: [UInt8]
        public var verified: Bool
        public var lastStep: Int64?
        public var lastUsedAt: Date?
        public var createdAt: Date

        init(row: PGRow) throws {
            id = try row.decode("id")
            name = try row.decode("name")
            sealedSecret = try row.decode("sealed_secret", as: PGBytes.self).bytes
            verified = try row.decode("verified")
            lastStep = try row.decode("last_step", as: Int64?.self)
            lastUsedAt = try row.decode("last_used_at", as: Date?.self)
            createdAt = try row.decode("created_at")
        }

        /// As `GET /auth/mfa/devices` lists it (no secret).
        public var json: JSONObject {
            [
                "id": .string(id.uuidString.lowercased()), "deviceName": .string(name), "method": .string("totp"),
                "verified": .bool(verified), "lastUsedAt": lastUsedAt.map { .string(ISO8601.format($0)) } ?? .null,
                "createdAt": .string(ISO8601.format(createdAt)),
            ]
        }
    }

    static let deviceColumns = "id, name, sealed_secret, verified, last_step, last_used_at, created_at"

    public init() {}

    // MARK: TOTP devices

    public func insertDevice(id: UUID, userID: UUID, name: String, sealedSecret: [UInt8], on db: some PGQueryable) async throws {
        try await db.query(
            "INSERT INTO mfa_devices (id, user_id, name, sealed_secret) VALUES ($1, $2, $3, $4)", id, userID, name, PGBind.bytea(sealedSecret))
    }

    /// The user's devices, newest first; `forUpdate` locks them (a code check updates one).
    public func devices(userID: UUID, forUpdate: Bool = false, on db: some PGQueryable) async throws -> [Device] {
        try await db.query(
            "SELECT \(Self.deviceColumns) FROM mfa_devices WHERE user_id = $1 ORDER BY created_at DESC, id\(forUpdate ? " FOR UPDATE" : "")",
            userID
        ).map(Device.init(row:))
    }

    /// A code of `step` was accepted: later codes must be of a later step. Optionally verifies.
    public func usedStep(deviceID: UUID, step: Int64, verify: Bool, on db: some PGQueryable) async throws {
        try await db.query(
            "UPDATE mfa_devices SET last_step = $2, last_used_at = now(), verified = verified OR $3 WHERE id = $1", deviceID, step, verify)
    }

    /// Deletes one of the user's devices (another user's id matches nothing); true when one went.
    public func deleteDevice(id: UUID, userID: UUID, on db: some PGQueryable) async throws -> Bool {
        !(try await db.query("DELETE FROM mfa_devices WHERE id = $1 AND user_id = $2 RETURNING id", id, userID)).isEmpty
    }

    public func deleteDevices(userID: UUID, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM mfa_devices WHERE user_id = $1", userID)
    }

    // MARK: recovery codes

    /// Replaces the user's set.
    public func replaceRecoveryCodes(userID: UUID, hmacs: [String], on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM recovery_codes WHERE user_id = $1", userID)
        try await db.query(
            "INSERT INTO recovery_codes (user_id, code_hmac) SELECT $1, h FROM unnest($2::text[]) AS h", userID, hmacs)
    }

    /// Uses up one code, given what it could be stored as (one digest per key of the ring);
    /// true when it was in the set.
    public func consumeRecoveryCode(userID: UUID, candidates: [String], on db: some PGQueryable) async throws -> Bool {
        !(try await db.query(
            """
            DELETE FROM recovery_codes WHERE (user_id, code_hmac) IN (
                SELECT user_id, code_hmac FROM recovery_codes WHERE user_id = $1 AND code_hmac = ANY($2::text[]) LIMIT 1)
            RETURNING 1
            """, userID, candidates)).isEmpty
    }

    public func recoveryCodesLeft(userID: UUID, on db: some PGQueryable) async throws -> Int {
        try await db.query("SELECT count(*)::int8 AS n FROM recovery_codes WHERE user_id = $1", userID).first?.decode("n") ?? 0
    }

    // MARK: trusted devices

    public func insertTrustedDevice(
        digest: [UInt8], userID: UUID, request: AuthRequest, ttl: Duration, on db: some PGQueryable
    ) async throws {
        try await db.query(
            """
            INSERT INTO trusted_devices (token_hash, user_id, user_agent, ip_address, expires_at)
            VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
            """, PGBind.bytea(digest), userID, request.userAgent.map { String($0.prefix(512)) }, request.ipAddress, ttl.timeInterval)
    }

    /// True when the token is a live trusted device of this user (and stamps its use).
    public func useTrustedDevice(digest: [UInt8], userID: UUID, on db: some PGQueryable) async throws -> Bool {
        !(try await db.query(
            """
            UPDATE trusted_devices SET last_used_at = now()
            WHERE token_hash = $1 AND user_id = $2 AND expires_at > now() RETURNING 1
            """, PGBind.bytea(digest), userID)).isEmpty
    }

    /// The user's live trusted devices (never their tokens).
    public func trustedDevices(userID: UUID, on db: some PGQueryable) async throws -> [JSONObject] {
        try await db.query(
            """
            SELECT id, user_agent, ip_address, created_at, expires_at, last_used_at FROM trusted_devices
            WHERE user_id = $1 AND expires_at > now() ORDER BY created_at DESC, id
            """, userID
        ).map { row in
            [
                "id": .string(try row.decode("id", as: UUID.self).uuidString.lowercased()),
                "userAgent": try row.decode("user_agent", as: String?.self).map(JSONValue.string) ?? .null,
                "ipAddress": try row.decode("ip_address", as: String?.self).map(JSONValue.string) ?? .null,
                "createdAt": .string(ISO8601.format(try row.decode("created_at"))),
                "expiresAt": .string(ISO8601.format(try row.decode("expires_at"))),
                "lastUsedAt": try row.decode("last_used_at", as: Date?.self).map { .string(ISO8601.format($0)) } ?? .null,
            ]
        }
    }

    /// Revokes one of the user's trusted devices; false when the user has no such device.
    public func deleteTrustedDevice(id: UUID, userID: UUID, on db: some PGQueryable) async throws -> Bool {
        !(try await db.query("DELETE FROM trusted_devices WHERE id = $1 AND user_id = $2 RETURNING 1", id, userID)).isEmpty
    }

    /// Forgets every trusted device of the user (MFA turned off or its factors changed).
    public func deleteTrustedDevices(userID: UUID, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM trusted_devices WHERE user_id = $1", userID)
    }
}
