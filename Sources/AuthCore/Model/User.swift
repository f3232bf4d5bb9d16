#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// A user of one tenant (row of `<tenant>.users`). Holds no secret: the password hash lives in
/// `credentials`, apart from the user row.
public struct User: Sendable, Equatable {
    public var id: UUID
    public var email: String?
    public var phone: String?
    public var emailVerifiedAt: Date?
    public var phoneVerifiedAt: Date?
    public var isActive: Bool
    public var isMfaEnabled: Bool
    public var metadata: JSONObject
    public var lastLoginAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    static let columns = """
        id, email, phone, email_verified_at, phone_verified_at, is_active, is_mfa_enabled, metadata::text AS metadata, \
        last_login_at, created_at, updated_at
        """

    init(row: PGRow) throws {
        id = try row.decode("id")
        email = try row.decode("email", as: String?.self)
        phone = try row.decode("phone", as: String?.self)
        emailVerifiedAt = try row.decode("email_verified_at", as: Date?.self)
        phoneVerifiedAt = try row.decode("phone_verified_at", as: Date?.self)
        isActive = try row.decode("is_active")
        isMfaEnabled = try row.decode("is_mfa_enabled")
        metadata = try JSONValue.parse(try row.decode("metadata", as: String.self)).objectValue
        lastLoginAt = try row.decode("last_login_at", as: Date?.self)
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
    }

    public init(
        id: UUID, email: String?, phone: String?, emailVerifiedAt: Date? = nil, phoneVerifiedAt: Date? = nil,
        isActive: Bool = true, isMfaEnabled: Bool = false, metadata: JSONObject = [:], lastLoginAt: Date? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.phone = phone
        self.emailVerifiedAt = emailVerifiedAt
        self.phoneVerifiedAt = phoneVerifiedAt
        self.isActive = isActive
        self.isMfaEnabled = isMfaEnabled
        self.metadata = metadata
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The user as JSON (no secrets), e.g. for `GET /auth/user` and hook payloads.
    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()),
            "email": email.map(JSONValue.string) ?? .null,
            "phone": phone.map(JSONValue.string) ?? .null,
            "emailVerifiedAt": emailVerifiedAt.map { .string(ISO8601.format($0)) } ?? .null,
            "phoneVerifiedAt": phoneVerifiedAt.map { .string(ISO8601.format($0)) } ?? .null,
            "isActive": .bool(isActive),
            "isMfaEnabled": .bool(isMfaEnabled),
            "metadata": .object(metadata),
            "lastLoginAt": lastLoginAt.map { .string(ISO8601.format($0)) } ?? .null,
            "createdAt": .string(ISO8601.format(createdAt)),
            "updatedAt": .string(ISO8601.format(updatedAt)),
        ]
    }
}

/// ISO 8601 timestamps with milliseconds, UTC.
public enum ISO8601 {
    public static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
