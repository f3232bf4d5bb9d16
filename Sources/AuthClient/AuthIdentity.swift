#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Who made a request, as a verified authd access token says: what a handler behind
/// `AuthClientMiddleware` reads from its context.
public struct AuthIdentity: Sendable, Equatable {
    public var userID: UUID
    public var tenantID: UUID
    public var sessionID: UUID
    /// Role references (`editor`, or `portal:admin` for a role of another guard).
    public var roles: [String]
    /// The permissions the token carries; nil when authd leaves them out of tokens
    /// (then `requirePermissions` refuses: it cannot be decided locally).
    public var permissions: [String]?
    public var expiresAt: Date

    public init(userID: UUID, tenantID: UUID, sessionID: UUID, roles: [String], permissions: [String]?, expiresAt: Date) {
        self.userID = userID
        self.tenantID = tenantID
        self.sessionID = sessionID
        self.roles = roles
        self.permissions = permissions
        self.expiresAt = expiresAt
    }
}
