/// The one error type flows return to clients: an HTTP status, a stable code from the catalogue
/// (nest-auth's `NestAuthErrorCode` strings plus authd's own, see API.md) and a message that
/// never reveals whether an account exists or leaks database detail.
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "AuthError(\(status) \(code): \(message))" }

    /// 400 `INVALID_INPUT`, naming the field.
    public static func invalidInput(_ field: String, _ reason: String) -> AuthError {
        AuthError(status: 400, code: "INVALID_INPUT", message: "\(field): \(reason)")
    }

    /// 400 `INVALID_SLUG_FORMAT`.
    public static func invalidSlug(_ reason: String) -> AuthError {
        AuthError(status: 400, code: "INVALID_SLUG_FORMAT", message: reason)
    }

    /// 404 `TENANT_NOT_FOUND`.
    public static let tenantNotFound = AuthError(status: 404, code: "TENANT_NOT_FOUND", message: "Tenant not found")

    /// 409 `TENANT_ALREADY_EXISTS`.
    public static let tenantAlreadyExists = AuthError(
        status: 409, code: "TENANT_ALREADY_EXISTS", message: "A tenant with this slug already exists")

    /// 409 `TENANT_PROTECTED`: the default tenant cannot be deleted.
    public static let tenantProtected = AuthError(
        status: 409, code: "TENANT_PROTECTED", message: "The default tenant cannot be deleted")

    /// 503 `NOT_READY`: the database is unreachable or not fully migrated.
    public static func notReady(_ reason: String) -> AuthError {
        AuthError(status: 503, code: "NOT_READY", message: reason)
    }
}

extension AuthError {
    /// 401 `INVALID_TOKEN`: tampered, malformed, wrong type, unknown key.
    public static let invalidToken = AuthError(status: 401, code: "INVALID_TOKEN", message: "Invalid token")
    /// 401 `TOKEN_EXPIRED`: authentic but past its `exp`.
    public static let tokenExpired = AuthError(status: 401, code: "TOKEN_EXPIRED", message: "Token expired")
    /// 401 `REFRESH_TOKEN_INVALID`.
    public static let refreshTokenInvalid = AuthError(status: 401, code: "REFRESH_TOKEN_INVALID", message: "Invalid refresh token")
    /// 401 `REFRESH_TOKEN_EXPIRED`: the session's idle or absolute lifetime has passed.
    public static let refreshTokenExpired = AuthError(status: 401, code: "REFRESH_TOKEN_EXPIRED", message: "Session expired; log in again")
    /// 401 `INVALID_CREDENTIALS`: identical for unknown account, wrong password and locked account.
    public static let invalidCredentials = AuthError(status: 401, code: "INVALID_CREDENTIALS", message: "Invalid credentials")
    /// 401 `NO_AUTH_PROVIDED`.
    public static let noAuthProvided = AuthError(status: 401, code: "NO_AUTH_PROVIDED", message: "No authentication provided")
    /// 401 `INVALID_AUTH_TYPE`.
    public static let invalidAuthType = AuthError(status: 401, code: "INVALID_AUTH_TYPE", message: "Unsupported authorization scheme")
    /// 401 `SESSION_NOT_FOUND`: revoked, expired or unknown session.
    public static let sessionNotFound = AuthError(status: 401, code: "SESSION_NOT_FOUND", message: "Session not found")
    /// 401 `ACCOUNT_INACTIVE`.
    public static let accountInactive = AuthError(status: 401, code: "ACCOUNT_INACTIVE", message: "Account is inactive")
    /// 403 `REGISTRATION_DISABLED`.
    public static let registrationDisabled = AuthError(status: 403, code: "REGISTRATION_DISABLED", message: "Registration is disabled")
    /// 409 `EMAIL_ALREADY_EXISTS` (DESIGN.md §8).
    public static let emailAlreadyExists = AuthError(status: 409, code: "EMAIL_ALREADY_EXISTS", message: "An account with this email already exists")
    /// 409 `PHONE_ALREADY_EXISTS`.
    public static let phoneAlreadyExists = AuthError(status: 409, code: "PHONE_ALREADY_EXISTS", message: "An account with this phone number already exists")
    /// 400 `EMAIL_OR_PHONE_REQUIRED`.
    public static let emailOrPhoneRequired = AuthError(status: 400, code: "EMAIL_OR_PHONE_REQUIRED", message: "Email or phone is required")
    /// 403 `INVALID_TENANT`: a body or header names another tenant than the token.
    public static let invalidTenant = AuthError(status: 403, code: "INVALID_TENANT", message: "Tenant does not match the token")
    /// 403 `CSRF_TOKEN_INVALID`: a cookie-authenticated write without a valid `x-csrf-token`.
    public static let csrfTokenInvalid = AuthError(status: 403, code: "CSRF_TOKEN_INVALID", message: "Missing or invalid CSRF token")

    /// 403 `CSRF_ORIGIN_REJECTED`: a cookie-authenticated write from an origin not allowed.
    public static let csrfOriginRejected = AuthError(status: 403, code: "CSRF_ORIGIN_REJECTED", message: "Request origin not allowed")

    /// 404 `USER_NOT_FOUND`.
    public static let userNotFound = AuthError(status: 404, code: "USER_NOT_FOUND", message: "User not found")

    /// 500 `INTERNAL_ERROR` with a generic message (the detail is for logs only).
    public static func internalError(_ logDetail: String) -> AuthError {
        AuthError(status: 500, code: "INTERNAL_ERROR", message: "Internal error")
    }

    /// 401 `ACCESS_DENIED` with the guard's reason.
    public static func accessDenied(_ reason: String?, status: Int = 401) -> AuthError {
        AuthError(status: status, code: "ACCESS_DENIED", message: reason ?? "Access denied")
    }
}
