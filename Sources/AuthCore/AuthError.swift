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
