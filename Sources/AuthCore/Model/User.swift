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

    /// The columns for a join, aliased `u_…` (read back with `init(row:prefix: "u_")`).
    static let prefixedColumns = """
        u.id AS u_id, u.email AS u_email, u.phone AS u_phone, u.email_verified_at AS u_email_verified_at, \
        u.phone_verified_at AS u_phone_verified_at, u.is_active AS u_is_active, u.is_mfa_enabled AS u_is_mfa_enabled, \
        u.metadata::text AS u_metadata, u.last_login_at AS u_last_login_at, u.created_at AS u_created_at, \
        u.updated_at AS u_updated_at
        """

    init(row: PGRow, prefix p: String = "") throws {
        id = try row.decode(p + "id")
        email = try row.decode(p + "email", as: String?.self)
        phone = try row.decode(p + "phone", as: String?.self)
        emailVerifiedAt = try row.decode(p + "email_verified_at", as: Date?.self)
        phoneVerifiedAt = try row.decode(p + "phone_verified_at", as: Date?.self)
        isActive = try row.decode(p + "is_active")
        isMfaEnabled = try row.decode(p + "is_mfa_enabled")
        metadata = try JSONValue.parse(try row.decode(p + "metadata", as: String.self)).objectValue
        lastLoginAt = try row.decode(p + "last_login_at", as: Date?.self)
        createdAt = try row.decode(p + "created_at")
        updatedAt = try row.decode(p + "updated_at")
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

    /// A timestamp with or without fractional seconds; nil when it is not one.
    public static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
