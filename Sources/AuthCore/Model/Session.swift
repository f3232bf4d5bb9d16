#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// A login session (row of `<tenant>.sessions`). Refresh secrets are not part of this value.
public struct Session: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    public var data: JSONObject
    public var generation: Int
    public var deviceName: String?
    public var ipAddress: String?
    public var userAgent: String?
    public var createdAt: Date
    public var lastActiveAt: Date
    public var idleExpiresAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    public var revokedReason: String?
    /// Its owner passed a second factor in it (or came from a trusted device).
    public var mfaVerified: Bool
    /// The channel of a code that was the login itself (passwordless), which cannot also be
    /// the second factor.
    public var firstFactor: String?

    static let columns = """
        id, user_id, data::text AS data, refresh_generation, device_name, ip_address, user_agent, created_at, \
        last_active_at, idle_expires_at, expires_at, revoked_at, revoked_reason, mfa_verified, first_factor
        """

    init(row: PGRow) throws {
        id = try row.decode("id")
        userID = try row.decode("user_id")
        data = try JSONValue.parse(try row.decode("data", as: String.self)).objectValue
        generation = try row.decode("refresh_generation")
        deviceName = try row.decode("device_name", as: String?.self)
        ipAddress = try row.decode("ip_address", as: String?.self)
        userAgent = try row.decode("user_agent", as: String?.self)
        createdAt = try row.decode("created_at")
        lastActiveAt = try row.decode("last_active_at")
        idleExpiresAt = try row.decode("idle_expires_at")
        expiresAt = try row.decode("expires_at")
        revokedAt = try row.decode("revoked_at", as: Date?.self)
        revokedReason = try row.decode("revoked_reason", as: String?.self)
        mfaVerified = try row.decode("mfa_verified")
        firstFactor = try row.decode("first_factor", as: String?.self)
    }

    /// The stand-in session of a request authenticated by an API key: the key's id, never
    /// stored, live for this request only. A key is made from a session that passed every factor.
    init(apiKey id: UUID, userID: UUID, now: Date) {
        self.id = id
        self.userID = userID
        data = [:]
        generation = 0
        createdAt = now
        lastActiveAt = now
        idleExpiresAt = now.addingTimeInterval(60)
        expiresAt = now.addingTimeInterval(60)
        mfaVerified = true
    }

    /// Live: not revoked and within both its idle and absolute lifetime.
    public func isLive(at now: Date) -> Bool {
        revokedAt == nil && now < idleExpiresAt && now < expiresAt
    }

    /// The session as listed by `GET /auth/sessions` (no secrets).
    public func json(current: Bool) -> JSONObject {
        [
            "id": .string(id.uuidString.lowercased()),
            "deviceName": deviceName.map(JSONValue.string) ?? .null,
            "ipAddress": ipAddress.map(JSONValue.string) ?? .null,
            "userAgent": userAgent.map(JSONValue.string) ?? .null,
            "createdAt": .string(ISO8601.format(createdAt)),
            "lastActiveAt": .string(ISO8601.format(lastActiveAt)),
            "expiresAt": .string(ISO8601.format(min(idleExpiresAt, expiresAt))),
            "current": .bool(current),
        ]
    }
}
