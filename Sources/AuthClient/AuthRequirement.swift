/// What a route demands of the caller's roles or permissions — authd's rule and codes
/// (`AuthorizationRequirement`): no role at all where roles are required → 403
/// `NO_ROLES_ASSIGNED`; roles missing → 403 `MISSING_REQUIRED_ROLES`; permissions missing (or
/// not carried by the token) → 403 `MISSING_REQUIRED_PERMISSIONS`.
public struct AuthRequirement: Sendable, Equatable {
    public enum Match: Sendable, Equatable {
        /// Every listed name is needed.
        case all
        /// One of them is enough.
        case any
    }

    public var roles: [String]
    public var rolesMatch: Match
    public var permissions: [String]
    public var permissionsMatch: Match

    public init(roles: [String] = [], rolesMatch: Match = .any, permissions: [String] = [], permissionsMatch: Match = .all) {
        self.roles = roles
        self.rolesMatch = rolesMatch
        self.permissions = permissions
        self.permissionsMatch = permissionsMatch
    }

    /// Roles by reference: `editor` (authd's default guard) or `portal:admin`.
    public static func roles(_ names: [String], match: Match = .any) -> AuthRequirement {
        AuthRequirement(roles: names, rolesMatch: match)
    }

    public static func permissions(_ names: [String], match: Match = .all) -> AuthRequirement {
        AuthRequirement(permissions: names, permissionsMatch: match)
    }

    /// Throws the first unmet demand; the message names what is missing, never what is held.
    public func check(_ identity: AuthIdentity) throws {
        if !roles.isEmpty {
            guard !identity.roles.isEmpty else { throw AuthClientError.noRolesAssigned }
            let held = Set(identity.roles)
            let missing = roles.filter { !held.contains($0) }
            guard rolesMatch == .all ? missing.isEmpty : missing.count < roles.count else { throw AuthClientError.missingRoles(missing) }
        }
        if !permissions.isEmpty {
            let granted = Set(identity.permissions ?? [])
            let missing = permissions.filter { !granted.contains($0) }
            guard permissionsMatch == .all ? missing.isEmpty : missing.count < permissions.count else {
                throw AuthClientError.missingPermissions(missing)
            }
        }
    }
}
