/// What a route demands of its caller's roles and permissions (reference §7, behaviour 37), as a
/// value so that any verifier of authd's tokens — the AuthHTTP middleware, or an application
/// checking tokens itself — applies the same rule with the same codes: a caller with no role at
/// all where roles are required → 403 `NO_ROLES_ASSIGNED`; a `guard` named and no role of it held
/// → 403 `GUARD_MISMATCH`; roles missing → 403 `MISSING_REQUIRED_ROLES`; permissions missing →
/// 403 `MISSING_REQUIRED_PERMISSIONS`. Roles are compared by `Role.reference`: with a guard, the
/// required names are that guard's roles.
public struct AuthorizationRequirement: Sendable, Equatable {
    /// Whether every listed name is needed, or one of them is enough.
    public enum Match: Sendable, Equatable {
        case all
        case any
    }

    public var roles: [String]
    public var rolesMatch: Match
    public var permissions: [String]
    public var permissionsMatch: Match
    /// The guard namespace the caller's roles must belong to (nil: any).
    public var guard_: String?

    public init(
        roles: [String] = [], rolesMatch: Match = .any, permissions: [String] = [], permissionsMatch: Match = .all, guard: String? = nil
    ) {
        self.guard_ = `guard`
        self.roles = roles
        self.rolesMatch = rolesMatch
        self.permissions = permissions
        self.permissionsMatch = permissionsMatch
    }

    /// Throws the first unmet demand; the message names what is missing (never what the caller has).
    public func check(roles held: [String], permissions granted: [String]) throws {
        if !roles.isEmpty || guard_ != nil {
            guard !held.isEmpty else { throw AuthError(.noRolesAssigned) }
        }
        if let required = guard_ {
            guard held.contains(where: { Role.parse(reference: $0).guard == required }) else {
                throw AuthError(.guardMismatch, message: "No role of guard \(required)")
            }
        }
        if !roles.isEmpty {
            let have = Set(held)
            let missing = roles.filter { !have.contains(Role.reference(name: $0, guard: guard_ ?? Role.defaultGuard)) }
            let met = rolesMatch == .all ? missing.isEmpty : missing.count < roles.count
            guard met else {
                throw AuthError(.missingRequiredRoles, message: "Missing required roles: \(missing.joined(separator: ", "))")
            }
        }
        if !permissions.isEmpty {
            let have = Set(granted)
            let missing = permissions.filter { !have.contains($0) }
            let met = permissionsMatch == .all ? missing.isEmpty : missing.count < permissions.count
            guard met else {
                throw AuthError(.missingRequiredPermissions, message: "Missing required permissions: \(missing.joined(separator: ", "))")
            }
        }
    }
}
