/// The one error type that leaves AuthCore: an entry of the catalogue (`AuthErrorCode`: stable
/// code and HTTP status), a message for the client that never reveals whether an account exists
/// or leaks database detail, and — kept for the log only — the internal cause.
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The catalogue entry (or a hook's own code, see `rejection`).
    public let entry: AuthErrorCode
    /// What the client reads.
    public var message: String
    /// Seconds a client should wait before trying again (429, 503): sent as `Retry-After`.
    public var retryAfter: Int?
    /// What really happened, for the log; never sent to a client.
    public var cause: (any Error)?

    /// The code clients see, e.g. `INVALID_CREDENTIALS`.
    public var code: String { entry.rawValue }
    /// The HTTP status.
    public var status: Int { entry.status }

    public init(_ entry: AuthErrorCode, message: String? = nil, retryAfter: Int? = nil, cause: (any Error)? = nil) {
        self.entry = entry
        self.message = message ?? entry.defaultMessage
        self.retryAfter = retryAfter
        self.cause = cause
    }

    /// A hook's refusal with a code of its own (e.g. 403 `ACCOUNT_UNDER_REVIEW`). Only client
    /// errors (400–499) and plain upper-case codes pass; anything else becomes `HOOK_REJECTED`
    /// with status 403, so a hook can never make authd answer 5xx or an odd code.
    public static func rejection(code: String, status: Int = 403, message: String) -> AuthError {
        let valid = (1...64).contains(code.utf8.count) && code.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        let status = (400...499).contains(status) ? status : 403
        return AuthError(valid ? AuthErrorCode(code, status, message) : AuthErrorCode(AuthErrorCode.hookRejected.rawValue, status, message),
                         message: message)
    }

    /// Same code, status and message (the cause is not compared).
    public static func == (a: AuthError, b: AuthError) -> Bool {
        a.entry == b.entry && a.message == b.message
    }

    /// For logs: the cause included.
    public var description: String {
        var s = "AuthError(\(status) \(code): \(message)"
        if let cause { s += "; cause: \(String(describing: cause))" }
        return s + ")"
    }
}

extension AuthError {
    /// 400 `INVALID_INPUT`, naming the field.
    public static func invalidInput(_ field: String, _ reason: String) -> AuthError {
        AuthError(.invalidInput, message: "\(field): \(reason)")
    }

    /// 503 `SERVICE_UNAVAILABLE` with `Retry-After`.
    public static func unavailable(retryAfter: Int = 1, cause: (any Error)? = nil) -> AuthError {
        AuthError(.serviceUnavailable, retryAfter: retryAfter, cause: cause)
    }

    /// 500 `INTERNAL_ERROR`: the client learns nothing; the cause goes to the log.
    public static func internalError(_ cause: any Error) -> AuthError {
        AuthError(.internalError, cause: cause)
    }

    /// An internal inconsistency described in words (logged, never sent).
    public static func internalError(_ detail: String) -> AuthError {
        AuthError(.internalError, cause: InternalFault(detail: detail))
    }

    // The errors flows throw as they are, spelled as before.
    public static let invalidToken = AuthError(.invalidToken)
    public static let tokenExpired = AuthError(.tokenExpired)
    public static let refreshTokenInvalid = AuthError(.refreshTokenInvalid)
    public static let refreshTokenExpired = AuthError(.refreshTokenExpired)
    public static let invalidCredentials = AuthError(.invalidCredentials)
    public static let noAuthProvided = AuthError(.noAuthProvided)
    public static let invalidAuthType = AuthError(.invalidAuthType)
    public static let sessionNotFound = AuthError(.sessionNotFound)
    public static let accountInactive = AuthError(.accountInactive)
    public static let registrationDisabled = AuthError(.registrationDisabled)
    public static let emailAlreadyExists = AuthError(.emailAlreadyExists)
    public static let phoneAlreadyExists = AuthError(.phoneAlreadyExists)
    public static let emailOrPhoneRequired = AuthError(.emailOrPhoneRequired)
    public static let invalidTenant = AuthError(.invalidTenant)
    public static let csrfTokenInvalid = AuthError(.csrfTokenInvalid)
    public static let csrfOriginRejected = AuthError(.csrfOriginRejected)
    public static let userNotFound = AuthError(.userNotFound)
    public static let tenantNotFound = AuthError(.tenantNotFound)
    public static let tenantAlreadyExists = AuthError(.tenantAlreadyExists)
    public static let tenantProtected = AuthError(.tenantProtected)
    public static let hookFailed = AuthError(.hookFailed)

    /// 400 `INVALID_SLUG_FORMAT` with the reason.
    public static func invalidSlug(_ reason: String) -> AuthError { AuthError(.invalidSlugFormat, message: reason) }

    /// 503 `NOT_READY` with the reason (`/health/ready`).
    public static func notReady(_ reason: String) -> AuthError { AuthError(.notReady, message: reason, retryAfter: 5) }

    /// `ACCESS_DENIED` with the guard's reason: 401 from `guards.beforeAuth`, 403 from
    /// `guards.afterAuth` (API.md's guard order).
    public static func accessDenied(_ reason: String?, afterAuth: Bool = false) -> AuthError {
        AuthError(afterAuth ? .accessForbidden : .accessDenied, message: reason)
    }
}

/// A fault inside authd described in words (the cause of an `INTERNAL_ERROR`).
struct InternalFault: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}
