#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Who administers which tenant in an admin API request: a tenant admin (a user of that tenant,
/// through their token, with the permissions their roles grant), or a platform admin (through
/// the console session, in the tenant the request names, with every permission).
public struct AdminScope: Sendable {
    public let tenant: Tenant
    /// The actor of the events (and audit rows) the request causes.
    public let actor: JSONObject
    /// The caller's own session (marked `current` in session lists), when a user.
    public let currentSessionID: UUID?
    /// The caller's own account, when a tenant user (nil for a platform admin).
    public let callerID: UUID?
    /// The permissions held; nil: all of them (a platform admin).
    public let permissions: Set<String>?

    /// A tenant admin: the principal's tenant and permissions.
    public init(principal: Principal, permissions: [String]) {
        tenant = principal.tenant
        actor = principal.auditActor
        currentSessionID = principal.apiKeyID == nil ? principal.session.id : nil
        callerID = principal.user.id
        self.permissions = Set(permissions)
    }

    /// A platform admin acting in `tenant`.
    public init(platformAdmin admin: PlatformAdmin, tenant: Tenant) {
        self.tenant = tenant
        actor = admin.auditActor
        currentSessionID = nil
        callerID = nil
        permissions = nil
    }

    /// No escalation: a tenant admin gives, takes or edits only the built-in (admin) powers they
    /// hold themselves — in a role they assign, remove, change or delete, and in a user they
    /// change, delete or set a password for (no takeover of a more powerful account). The
    /// application's own permissions are theirs to grant. 403 `MISSING_REQUIRED_PERMISSIONS`
    /// naming the first one they lack.
    public func requireHolding(_ granted: [String], _ what: String) throws {
        guard let permissions else { return }
        if let lacking = granted.sorted().first(where: { Permission.builtIn.contains($0) && !permissions.contains($0) }) {
            throw AuthError(.missingRequiredPermissions, message: "\(what) needs \(lacking), which you do not hold")
        }
    }

    /// 403 `MISSING_REQUIRED_PERMISSIONS` unless every one of `required` is held.
    public func require(_ required: [String]) throws {
        guard let permissions else { return }
        let missing = required.filter { !permissions.contains($0) }
        guard missing.isEmpty else {
            throw AuthError(.missingRequiredPermissions, message: "Missing required permissions: \(missing.joined(separator: ", "))")
        }
    }
}
