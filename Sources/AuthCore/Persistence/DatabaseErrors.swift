import PGKit

/// The one place a `PGError` becomes an `AuthError` (the cause is kept for the log):
/// - a NUL in a value (input validation should have refused it first): 400 `INVALID_INPUT`;
/// - a tenant's schema or table missing while the tenant is gone from the registry: it was
///   deleted under the request, 404 `TENANT_NOT_FOUND` (the guard turns it into
///   `SESSION_NOT_FOUND`); a missing table of a tenant that exists is a fault (500);
/// - the database unreachable, restarting, failing over, out of connections, or a conflict to
///   retry: 503 `SERVICE_UNAVAILABLE` with `Retry-After` — never a 500;
/// - anything else is a fault of authd's: 500 `INTERNAL_ERROR`.
enum DatabaseErrors {
    static func map(_ error: PGError, tenantGone: Bool) -> AuthError {
        if error.kind == .invalidParameter {
            return AuthError(.invalidInput, message: "text values must not contain NUL characters", cause: error)
        }
        if tenantGone { return AuthError(.tenantNotFound, cause: error) }
        if error.isUnavailable { return AuthError.unavailable(retryAfter: error.kind == .acquireTimeout ? 2 : 1, cause: error) }
        return AuthError.internalError(error)
    }
}
