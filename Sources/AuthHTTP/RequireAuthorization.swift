import AuthCore
import Hummingbird

/// Route requirements on a guarded group (behind the guard, so it always has a principal):
/// `group.group("admin").add(middleware: RequireAuthorization(roles: ["admin"]))` or
/// `RequireAuthorization(permissions: ["orders.read", "orders.write"], permissionsMatch: .any)`.
/// Roles and permissions are the access token's (the session's snapshot when the deployment
/// leaves permissions out of tokens; an API key's owner's stored ones): a change of roles takes
/// effect at the next refresh. Add it on a group of its own: Hummingbird's `add(middleware:)`
/// changes the group it is called on, so every route registered there afterwards needs it too.
public struct RequireAuthorization: RouterMiddleware {
    public typealias Context = AuthenticatedContext
    public let requirement: AuthorizationRequirement

    public init(_ requirement: AuthorizationRequirement) {
        self.requirement = requirement
    }

    public init(
        roles: [String] = [], rolesMatch: AuthorizationRequirement.Match = .any, permissions: [String] = [],
        permissionsMatch: AuthorizationRequirement.Match = .all, guard: String? = nil
    ) {
        self.init(
            AuthorizationRequirement(
                roles: roles, rolesMatch: rolesMatch, permissions: permissions, permissionsMatch: permissionsMatch, guard: `guard`))
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = context.principal
        try requirement.check(roles: principal.claims.roles, permissions: principal.permissions)
        return try await next(request, context)
    }
}
