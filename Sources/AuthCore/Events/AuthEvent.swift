#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One event of the outbox (DESIGN.md §5): a versioned JSON envelope
/// `{id, type, version, tenant, occurredAt, actor, subject, data}` that never carries a password,
/// token or hash.
public struct AuthEvent: Sendable, Equatable {
    /// Event names: `auth.` + nest-auth's event name without its prefix.
    public struct Name: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }

        public static let registered: Name = "auth.registered"
        public static let loggedIn: Name = "auth.logged_in"
        public static let loginFailed: Name = "auth.login_failed"
        /// Repeated wrong passwords locked the account (to tell its owner; the login itself
        /// answers as a wrong password).
        public static let accountLocked: Name = "auth.account_locked"
        public static let loggedOut: Name = "auth.logged_out"
        public static let loggedOutAll: Name = "auth.logged_out_all"
        public static let refreshToken: Name = "auth.refresh_token"
        public static let refreshTokenReuseDetected: Name = "auth.refresh_token_reuse_detected"
        public static let userCreated: Name = "auth.user.created"
        public static let userUpdated: Name = "auth.user.updated"
        public static let userDeleted: Name = "auth.user.deleted"
        public static let userRolesChanged: Name = "auth.user.roles_changed"
        public static let roleCreated: Name = "auth.role.created"
        public static let roleUpdated: Name = "auth.role.updated"
        public static let roleDeleted: Name = "auth.role.deleted"
        public static let permissionCreated: Name = "auth.permission.created"
        public static let permissionDeleted: Name = "auth.permission.deleted"
        public static let tenantSettingsChanged: Name = "auth.tenant.settings_changed"
        // The platform admins' actions (no tenant; written to `auth.platform_audit_log`).
        public static let platformAdminCreated: Name = "auth.platform.admin_created"
        public static let platformAdminDeleted: Name = "auth.platform.admin_deleted"
        public static let platformPasswordChanged: Name = "auth.platform.password_changed"
        public static let platformLogin: Name = "auth.platform.login"
        public static let platformLoginFailed: Name = "auth.platform.login_failed"
        public static let platformTenantCreated: Name = "auth.platform.tenant_created"
        public static let platformTenantUpdated: Name = "auth.platform.tenant_updated"
        public static let platformTenantDeleted: Name = "auth.platform.tenant_deleted"
        public static let sessionRevoked: Name = "auth.session.revoked"
        public static let passwordChanged: Name = "auth.password_changed"
        public static let emailVerificationRequested: Name = "auth.email.verification.requested"
        public static let emailVerified: Name = "auth.email.verified"
        public static let phoneVerificationRequested: Name = "auth.phone.verification.requested"
        public static let phoneVerified: Name = "auth.phone.verified"
        public static let passwordResetRequested: Name = "auth.password_reset_requested"
        public static let passwordReset: Name = "auth.password_reset"
        public static let passwordlessCodeRequested: Name = "auth.passwordless.code.requested"
        public static let twoFactorCodeSent: Name = "auth.two_factor_code_sent"
        public static let twoFactorVerified: Name = "auth.two_factor_verified"
        public static let twoFactorEnabled: Name = "auth.two_factor_enabled"
        public static let twoFactorDisabled: Name = "auth.two_factor_disabled"
        public static let mfaDeviceAdded: Name = "auth.mfa.device_added"
        public static let mfaDeviceRemoved: Name = "auth.mfa.device_removed"
        public static let recoveryCodesGenerated: Name = "auth.mfa.recovery_codes_generated"
        public static let recoveryCodeUsed: Name = "auth.mfa.recovery_code_used"
        public static let accessKeyCreated: Name = "auth.access_key.created"
        public static let accessKeyDeactivated: Name = "auth.access_key.deactivated"
        public static let userInvited: Name = "auth.user_invited"
        public static let identityLinked: Name = "auth.identity.linked"
        public static let identityUnlinked: Name = "auth.identity.unlinked"
        public static let passkeyAdded: Name = "auth.passkey.added"
        public static let passkeyRemoved: Name = "auth.passkey.removed"
    }

    public var id: UUID
    public var type: Name
    public var version: Int
    public var tenantID: UUID?
    public var actor: JSONObject
    public var subject: JSONObject
    public var data: JSONObject
    /// A one-time code (verification, passwordless, MFA) a consumer must deliver: never in
    /// `data`; stored only sealed and purged once every group has it or it expired.
    public var secret: OneTimeSecret?

    /// A secret riding with an event, and until when it is of any use.
    public struct OneTimeSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
        public var value: String
        public var expiresAt: Date
        public init(_ value: String, expiresAt: Date) {
            self.value = value
            self.expiresAt = expiresAt
        }

        /// Never the value: an event logged or printed must not show its code.
        public var description: String { "OneTimeSecret(redacted, expires \(expiresAt))" }
        public var debugDescription: String { description }
    }

    public init(
        _ type: Name, tenantID: UUID?, actor: JSONObject = [:], subject: JSONObject = [:], data: JSONObject = [:],
        version: Int = 1
    ) {
        self.id = UUID()
        self.type = type
        self.version = version
        self.tenantID = tenantID
        self.actor = actor
        self.subject = subject
        self.data = data
    }

    /// `{"type": "user", "id": …}`.
    public static func user(_ id: UUID) -> JSONObject {
        ["type": .string("user"), "id": .string(id.uuidString.lowercased())]
    }

    /// `{"type": "session", "id": …, "userId": …}`.
    public static func session(_ id: UUID, user: UUID) -> JSONObject {
        ["type": .string("session"), "id": .string(id.uuidString.lowercased()), "userId": .string(user.uuidString.lowercased())]
    }
}
