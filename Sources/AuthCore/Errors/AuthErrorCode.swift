/// The catalogue of every error authd answers with: its stable code (nest-auth's
/// `NestAuthErrorCode` strings, API.md, plus authd's own), its HTTP status and its default
/// message. Errors are made only from these (`AuthError(.invalidCredentials)`), so a code has one
/// status everywhere — except `ACCESS_DENIED`, which API.md answers with 401 before the user is
/// known (`guards.beforeAuth`) and 403 after (`guards.afterAuth`): two entries, both here.
/// Hooks may reject with codes of their own (`AuthError.rejection`); those are not listed.
public struct AuthErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// The code as clients see it, e.g. `INVALID_CREDENTIALS`.
    public let rawValue: String
    /// The HTTP status it is answered with.
    public let status: Int
    /// The message when the thrower gives none. Never reveals whether an account exists.
    public let defaultMessage: String

    init(_ rawValue: String, _ status: Int, _ defaultMessage: String) {
        self.rawValue = rawValue
        self.status = status
        self.defaultMessage = defaultMessage
    }

    public var description: String { "\(status) \(rawValue)" }
}

extension AuthErrorCode {
    // MARK: input
    public static let invalidInput = AuthErrorCode("INVALID_INPUT", 400, "Invalid input")
    public static let missingRequiredFields = AuthErrorCode("MISSING_REQUIRED_FIELDS", 400, "Required fields are missing")
    public static let emailOrPhoneRequired = AuthErrorCode("EMAIL_OR_PHONE_REQUIRED", 400, "Email or phone is required")
    public static let invalidEmailFormat = AuthErrorCode("INVALID_EMAIL_FORMAT", 400, "Invalid email address")
    public static let invalidPhoneFormat = AuthErrorCode("INVALID_PHONE_FORMAT", 400, "Phone must be in international format (+…)")
    public static let invalidSlugFormat = AuthErrorCode("INVALID_SLUG_FORMAT", 400, "Invalid tenant slug")
    public static let payloadTooLarge = AuthErrorCode("PAYLOAD_TOO_LARGE", 413, "Request body too large")
    public static let unsupportedMediaType = AuthErrorCode("UNSUPPORTED_MEDIA_TYPE", 415, "Content-Type must be application/json")
    public static let notFound = AuthErrorCode("NOT_FOUND", 404, "Not found")
    public static let methodNotAllowed = AuthErrorCode("METHOD_NOT_ALLOWED", 405, "Method not allowed")

    // MARK: passwords
    public static let passwordTooShort = AuthErrorCode("PASSWORD_TOO_SHORT", 400, "Password is too short")
    public static let passwordTooLong = AuthErrorCode("PASSWORD_TOO_LONG", 400, "Password is too long")
    public static let passwordTooCommon = AuthErrorCode("PASSWORD_TOO_COMMON", 400, "This password is too common or too simple; choose another")
    public static let passwordContainsIdentifier = AuthErrorCode(
        "PASSWORD_CONTAINS_IDENTIFIER", 400, "Password must not contain your email, phone number or the service's name")

    // MARK: signup and login
    public static let registrationDisabled = AuthErrorCode("REGISTRATION_DISABLED", 403, "Registration is disabled")
    public static let emailAlreadyExists = AuthErrorCode("EMAIL_ALREADY_EXISTS", 409, "An account with this email already exists")
    public static let phoneAlreadyExists = AuthErrorCode("PHONE_ALREADY_EXISTS", 409, "An account with this phone number already exists")
    public static let invalidCredentials = AuthErrorCode("INVALID_CREDENTIALS", 401, "Invalid credentials")
    public static let invalidProvider = AuthErrorCode("INVALID_PROVIDER", 401, "Unknown provider")
    public static let socialEmailNotVerified = AuthErrorCode(
        "SOCIAL_EMAIL_NOT_VERIFIED", 401, "The provider has not verified this e-mail address; it cannot be linked to an account")
    public static let accountNotVerified = AuthErrorCode(
        "ACCOUNT_NOT_VERIFIED", 409,
        "An account with this e-mail exists but has not verified it; verify it there first (or reset its password)")
    public static let providerUnavailable = AuthErrorCode("PROVIDER_UNAVAILABLE", 503, "The identity provider is unavailable; try again shortly")
    public static let identityNotFound = AuthErrorCode("IDENTITY_NOT_FOUND", 404, "Identity not found")
    public static let identityAlreadyLinked = AuthErrorCode("IDENTITY_ALREADY_LINKED", 409, "This identity is linked to another account")
    public static let lastLoginMethod = AuthErrorCode(
        "LAST_LOGIN_METHOD", 409, "This is the account's last way to log in; add another before removing it")
    public static let identityNotUnlinkable = AuthErrorCode(
        "IDENTITY_NOT_UNLINKABLE", 400, "E-mail and phone identities follow the account's addresses; change those instead")
    public static let passkeysNotConfigured = AuthErrorCode("PASSKEYS_NOT_CONFIGURED", 400, "Passkeys are not set up for this service")
    public static let passkeyVerificationFailed = AuthErrorCode("PASSKEY_VERIFICATION_FAILED", 400, "The passkey could not be verified")
    public static let passkeyAlreadyRegistered = AuthErrorCode("PASSKEY_ALREADY_REGISTERED", 409, "This passkey is registered already")
    public static let passkeyNotFound = AuthErrorCode("PASSKEY_NOT_FOUND", 404, "Passkey not found")
    public static let passkeyNeedsVerifiedAddress = AuthErrorCode(
        "PASSKEY_NEEDS_VERIFIED_ADDRESS", 403, "Verify your e-mail address or phone number before adding a passkey")
    public static let accountInactive = AuthErrorCode("ACCOUNT_INACTIVE", 401, "Account is inactive")
    public static let userNotFound = AuthErrorCode("USER_NOT_FOUND", 404, "User not found")

    // MARK: tokens and sessions
    public static let noAuthProvided = AuthErrorCode("NO_AUTH_PROVIDED", 401, "No authentication provided")
    public static let invalidAuthType = AuthErrorCode("INVALID_AUTH_TYPE", 401, "Unsupported authorization scheme")
    public static let invalidToken = AuthErrorCode("INVALID_TOKEN", 401, "Invalid token")
    public static let tokenExpired = AuthErrorCode("TOKEN_EXPIRED", 401, "Token expired")
    public static let refreshTokenInvalid = AuthErrorCode("REFRESH_TOKEN_INVALID", 401, "Invalid refresh token")
    public static let refreshTokenExpired = AuthErrorCode("REFRESH_TOKEN_EXPIRED", 401, "Session expired; log in again")
    /// The guard's: the token's session is revoked, expired or unknown (the client must log in).
    public static let sessionNotFound = AuthErrorCode("SESSION_NOT_FOUND", 401, "Session not found")
    /// `guards.beforeAuth` rejected, before the user is known.
    public static let accessDenied = AuthErrorCode("ACCESS_DENIED", 401, "Access denied")
    /// `guards.afterAuth` rejected the known user.
    public static let accessForbidden = AuthErrorCode("ACCESS_DENIED", 403, "Access denied")
    public static let csrfTokenInvalid = AuthErrorCode("CSRF_TOKEN_INVALID", 403, "Missing or invalid CSRF token")
    public static let csrfOriginRejected = AuthErrorCode("CSRF_ORIGIN_REJECTED", 403, "Request origin not allowed")

    // MARK: tenants
    public static let tenantNotFound = AuthErrorCode("TENANT_NOT_FOUND", 404, "Tenant not found")
    public static let tenantAlreadyExists = AuthErrorCode("TENANT_ALREADY_EXISTS", 409, "A tenant with this slug already exists")
    public static let tenantProtected = AuthErrorCode("TENANT_PROTECTED", 409, "The default tenant cannot be deleted or disabled")
    /// A body or header names another tenant than the access token.
    public static let invalidTenant = AuthErrorCode("INVALID_TENANT", 403, "Tenant does not match the token")

    // MARK: hooks
    /// A SQL hook rejected without a usable code of its own.
    public static let hookRejected = AuthErrorCode("HOOK_REJECTED", 403, "Rejected")
    /// A configured hook is broken: the operator's fault, not the client's (detail in the log).
    /// An HTTP decision hook could not be asked (down, timed out, unreadable): fail closed.
    public static let hookUnavailable = AuthErrorCode("HOOK_UNAVAILABLE", 503, "A configured hook is unavailable; try again shortly")
    public static let hookFailed = AuthErrorCode("HOOK_FAILED", 500, "A configured hook failed")

    // MARK: operations (CLI)
    public static let deliveryNotFound = AuthErrorCode("DELIVERY_NOT_FOUND", 404, "No such dead-lettered delivery")
    public static let groupNotFound = AuthErrorCode("GROUP_NOT_FOUND", 404, "No such consumer group")
    public static let snapshotsNeedReset = AuthErrorCode(
        "EVENT_SNAPSHOTS_NEED_RESET", 503,
        "The database's transaction ids went backwards (a restore?): run `authd events reset-snapshots`")

    // MARK: verification and one-time codes
    public static let emailAlreadyVerified = AuthErrorCode("EMAIL_ALREADY_VERIFIED", 400, "Email is already verified")
    public static let phoneAlreadyVerified = AuthErrorCode("PHONE_ALREADY_VERIFIED", 400, "Phone is already verified")
    public static let noEmailAddress = AuthErrorCode("NO_EMAIL_ADDRESS", 400, "The account has no email address")
    public static let noPhoneNumber = AuthErrorCode("NO_PHONE_NUMBER", 400, "The account has no phone number")
    public static let verificationCodeInvalid = AuthErrorCode("VERIFICATION_CODE_INVALID", 400, "Invalid verification code")
    public static let verificationCodeExpired = AuthErrorCode("VERIFICATION_CODE_EXPIRED", 400, "Verification code has expired")
    public static let otpInvalid = AuthErrorCode("OTP_INVALID", 400, "Invalid code")
    public static let otpExpired = AuthErrorCode("OTP_EXPIRED", 400, "Code has expired")
    public static let passwordlessDisabled = AuthErrorCode("PASSWORDLESS_DISABLED", 400, "Passwordless login is not enabled")

    // MARK: MFA
    public static let mfaRequired = AuthErrorCode("MFA_REQUIRED", 401, "Multi-factor verification required")
    public static let mfaNotEnabled = AuthErrorCode("MFA_NOT_ENABLED", 403, "Multi-factor authentication is not enabled")
    public static let mfaTogglingNotAllowed = AuthErrorCode("MFA_TOGGLING_NOT_ALLOWED", 403, "MFA cannot be turned on or off here")
    public static let mfaCannotEnableWithoutMethod = AuthErrorCode(
        "MFA_CANNOT_ENABLE_WITHOUT_METHOD", 403, "Set up a verified second factor before enabling MFA")
    public static let mfaMethodNotAvailable = AuthErrorCode("MFA_METHOD_NOT_AVAILABLE", 400, "That MFA method is not available")
    public static let mfaCodeInvalid = AuthErrorCode("MFA_CODE_INVALID", 401, "Invalid MFA code")
    public static let mfaRecoveryCodeInvalid = AuthErrorCode("MFA_RECOVERY_CODE_INVALID", 401, "Invalid recovery code")
    /// Changing factors needs a recent proof of identity in this session (security requirement 22).
    public static let reauthenticationRequired = AuthErrorCode(
        "REAUTHENTICATION_REQUIRED", 401, "Confirm your password (POST /auth/reauthenticate) to continue")

    // MARK: API keys and permissions
    public static let invalidAPIKeyFormat = AuthErrorCode("INVALID_API_KEY_FORMAT", 401, "Malformed API key")
    public static let invalidAPIKey = AuthErrorCode("INVALID_API_KEY", 401, "Invalid API key")
    public static let apiKeyExpired = AuthErrorCode("API_KEY_EXPIRED", 401, "API key has expired")
    public static let apiKeyDeactivated = AuthErrorCode("API_KEY_DEACTIVATED", 401, "API key has been revoked")
    public static let missingRequiredPermissions = AuthErrorCode("MISSING_REQUIRED_PERMISSIONS", 403, "Missing required permissions")
    public static let missingRequiredRoles = AuthErrorCode("MISSING_REQUIRED_ROLES", 403, "Missing required roles")
    public static let noRolesAssigned = AuthErrorCode("NO_ROLES_ASSIGNED", 403, "No roles assigned")
    public static let guardMismatch = AuthErrorCode("GUARD_MISMATCH", 403, "No role of the required guard")

    // MARK: platform admins (reference §1.3, behaviour 40)
    public static let invalidSecretKey = AuthErrorCode("INVALID_SECRET_KEY", 401, "Invalid secret key")
    public static let adminBootstrapClosed = AuthErrorCode("ADMIN_BOOTSTRAP_CLOSED", 403, "An admin exists already; sign in instead")
    public static let adminConsoleSecretNotConfigured = AuthErrorCode(
        "ADMIN_CONSOLE_SECRET_NOT_CONFIGURED", 403, "No admin bootstrap secret is configured (AUTH_ADMIN_SECRET)")
    public static let adminLastRemaining = AuthErrorCode("ADMIN_LAST_REMAINING", 409, "The last admin cannot be deleted")
    public static let adminSelfLockout = AuthErrorCode(
        "ADMIN_SELF_LOCKOUT", 409, "You cannot delete or deactivate your own account, or give up your own admin access, here")
    public static let adminUserExists = AuthErrorCode("ADMIN_USER_EXISTS", 409, "An admin with this e-mail exists already")
    public static let adminUserNotFound = AuthErrorCode("ADMIN_USER_NOT_FOUND", 404, "Admin not found")
    public static let mfaSetupRequired = AuthErrorCode(
        "MFA_SETUP_REQUIRED", 403, "This tenant requires MFA: turn it on (/auth/mfa/…), then refresh the token to continue")
    public static let tenantIDRequired = AuthErrorCode("TENANT_ID_REQUIRED", 400, "Name the tenant to administer (x-tenant-id)")

    // MARK: roles and permissions (admin)
    public static let roleNotFound = AuthErrorCode("ROLE_NOT_FOUND", 404, "Role not found")
    public static let roleAlreadyExists = AuthErrorCode("ROLE_ALREADY_EXISTS", 409, "A role with this name already exists in this guard")
    public static let roleNameUpdateNotAllowed = AuthErrorCode("ROLE_NAME_UPDATE_NOT_ALLOWED", 400, "A role cannot be renamed")
    public static let roleGuardUpdateNotAllowed = AuthErrorCode("ROLE_GUARD_UPDATE_NOT_ALLOWED", 400, "A role's guard cannot be changed")
    public static let systemRoleProtected = AuthErrorCode(
        "SYSTEM_ROLE_PROTECTED", 409, "Seeded roles and permissions cannot be deleted or deactivated")
    public static let permissionNotFound = AuthErrorCode("PERMISSION_NOT_FOUND", 404, "Permission not found")
    public static let permissionAlreadyExists = AuthErrorCode("PERMISSION_ALREADY_EXISTS", 409, "This permission already exists in this guard")

    // MARK: password
    public static let currentPasswordIncorrect = AuthErrorCode("CURRENT_PASSWORD_INCORRECT", 400, "Current password is incorrect")
    public static let newPasswordSameAsCurrent = AuthErrorCode(
        "NEW_PASSWORD_SAME_AS_CURRENT", 400, "New password must differ from the current password")
    public static let passwordResetTokenInvalid = AuthErrorCode("PASSWORD_RESET_TOKEN_INVALID", 400, "Reset token is invalid or already used")
    public static let passwordResetTokenExpired = AuthErrorCode("PASSWORD_RESET_TOKEN_EXPIRED", 400, "Reset token has expired")

    // MARK: service
    public static let rateLimited = AuthErrorCode("RATE_LIMITED", 429, "Too many requests; try again later")
    /// The database is unreachable or overloaded; always with `Retry-After`.
    public static let serviceUnavailable = AuthErrorCode("SERVICE_UNAVAILABLE", 503, "Service temporarily unavailable; try again shortly")
    /// `/health/ready`: unreachable or not migrated.
    public static let notReady = AuthErrorCode("NOT_READY", 503, "Not ready")
    public static let internalError = AuthErrorCode("INTERNAL_ERROR", 500, "Internal error")

    /// Every entry (for documentation and tests).
    public static let all: [AuthErrorCode] = [
        invalidInput, missingRequiredFields, emailOrPhoneRequired, invalidEmailFormat, invalidPhoneFormat, invalidSlugFormat,
        payloadTooLarge, unsupportedMediaType, notFound, methodNotAllowed, passwordTooShort, passwordTooLong, passwordTooCommon,
        passwordContainsIdentifier, registrationDisabled, emailAlreadyExists, phoneAlreadyExists, invalidCredentials, invalidProvider,
        socialEmailNotVerified, accountNotVerified, providerUnavailable, identityNotFound, identityAlreadyLinked, lastLoginMethod, identityNotUnlinkable,
        passkeysNotConfigured, passkeyVerificationFailed, passkeyAlreadyRegistered, passkeyNotFound, passkeyNeedsVerifiedAddress,
        accountInactive, userNotFound, noAuthProvided, invalidAuthType, invalidToken, tokenExpired, refreshTokenInvalid,
        refreshTokenExpired, sessionNotFound, accessDenied, accessForbidden, csrfTokenInvalid, csrfOriginRejected, tenantNotFound,
        tenantAlreadyExists, tenantProtected, invalidTenant, hookRejected, hookUnavailable, hookFailed, deliveryNotFound, groupNotFound,
        snapshotsNeedReset, emailAlreadyVerified, phoneAlreadyVerified, noEmailAddress, noPhoneNumber, verificationCodeInvalid,
        verificationCodeExpired, otpInvalid, otpExpired, passwordlessDisabled, currentPasswordIncorrect, newPasswordSameAsCurrent,
        passwordResetTokenInvalid, passwordResetTokenExpired, mfaRequired, mfaNotEnabled, mfaTogglingNotAllowed,
        mfaCannotEnableWithoutMethod, mfaMethodNotAvailable, mfaCodeInvalid, mfaRecoveryCodeInvalid, reauthenticationRequired, invalidAPIKeyFormat, invalidAPIKey,
        apiKeyExpired, apiKeyDeactivated, missingRequiredPermissions, missingRequiredRoles, noRolesAssigned, guardMismatch, invalidSecretKey, adminBootstrapClosed, adminConsoleSecretNotConfigured, adminLastRemaining, adminSelfLockout,
        adminUserExists, adminUserNotFound, tenantIDRequired, mfaSetupRequired, roleNotFound, roleAlreadyExists, roleNameUpdateNotAllowed,
        roleGuardUpdateNotAllowed, systemRoleProtected, permissionNotFound, permissionAlreadyExists, rateLimited, serviceUnavailable, notReady, internalError,
    ]
}
