import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// `/auth/admin/api/users…` and `/auth/admin/api/sessions` for tenant admins (API.md): behind
/// the guard and `auth.admin`, each route with its own permission; everything acts in the
/// token's tenant (`AdminUserFlow`).
struct AdminUserRoutes: Sendable {
    let env: AuthEnvironment

    func register(on api: RouterGroup<AdminContext>) {
        let read = api.requiring("auth.users.read").group("users")
        read.get(use: list)
        read.get(":id", use: get)
        let write = api.requiring("auth.users.write").group("users")
        write.post(use: create)
        write.patch(":id", use: update)
        write.delete(":id", use: delete)
        let sessionsRead = api.requiring("auth.sessions.read").group("users")
        sessionsRead.get(":id/sessions") { _, context in
            JSONResponse.make(.array(try await flow.sessions(context.scope, userID: try Self.id(context)).map(JSONValue.object)))
        }
        let revoke = api.requiring("auth.sessions.revoke")
        revoke.delete("users/:id/sessions/:sessionId") { _, context in
            guard let session = context.parameters.get("sessionId").flatMap(UUID.init(uuidString:)) else {
                throw AuthError.invalidInput("sessionId", "must be a session id")
            }
            try await flow.revokeSession(context.scope, userID: try Self.id(context), sessionID: session)
            return JSONResponse.message("Session revoked")
        }
        revoke.delete("users/:id/sessions") { _, context in
            JSONResponse.make(.object(["revoked": .int(try await flow.revokeSessions(context.scope, userID: try Self.id(context)))]))
        }
        revoke.delete("sessions") { _, context in
            JSONResponse.make(.object(["revoked": .int(try await flow.revokeAllSessions(context.scope))]))
        }
    }

    var flow: AdminUserFlow { AdminUserFlow(env: env) }

    static func id(_ context: AdminContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a user id") }
        return id
    }

    /// `?page&limit&search&status&role`.
    @Sendable func list(_ request: Request, context: AdminContext) async throws -> Response {
        let q = QueryFields(request)
        let filter = UserDirectoryStore.Filter(
            search: try q.string("search", maxLength: 320), status: try q.choice("status", ["active", "inactive", "verified", "unverified"]),
            role: try q.string("role", maxLength: 100))
        let page = try q.int("page", in: 1...100_000) ?? 1
        let limit = try q.int("limit", in: 1...100) ?? 10
        return JSONResponse.make(.object(try await flow.list(context.scope, filter: filter, page: page, limit: limit)))
    }

    @Sendable func get(_ request: Request, context: AdminContext) async throws -> Response {
        JSONResponse.make(.object(try await flow.get(context.scope, id: try Self.id(context))))
    }

    /// `{email?, phone?, password?, isActive?, isVerified?, roles?: [reference], metadata?}`.
    @Sendable func create(_ request: Request, context: AdminContext) async throws -> Response {
        let body = JSONFields(context.body)
        let account = AdminUserFlow.NewAccount(
            email: try body.string("email", maxLength: 320), phone: try body.string("phone", maxLength: 32),
            password: try body.string("password", maxLength: 1024), isActive: try body.bool("isActive") ?? true,
            emailVerified: try body.bool("isVerified") ?? false, roles: try Self.roles(body) ?? [], metadata: try body.members("metadata") ?? [:])
        let user = try await flow.create(context.scope, account, request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.make(.object(user), status: .created)
    }

    /// `{email?, phone?, isActive?, isVerified?, isMfaEnabled?, metadata?, roles?, password?}`;
    /// `email`/`phone` null removes it.
    @Sendable func update(_ request: Request, context: AdminContext) async throws -> Response {
        let body = JSONFields(context.body)
        var changes = UserChanges(
            isActive: try body.bool("isActive"), isMfaEnabled: try body.bool("isMfaEnabled"), metadata: try body.members("metadata"),
            emailVerified: try body.bool("isVerified"))
        if context.body.keys.contains("email") {
            var email = try body.string("email", maxLength: 320)
            if let given = email, !given.isEmpty { email = try Identifier.parse(email: given, phone: nil).email } else { email = nil }
            changes.email = .some(email)
        }
        if context.body.keys.contains("phone") {
            var phone = try body.string("phone", maxLength: 32)
            if let given = phone, !given.isEmpty { phone = try Identifier.parse(email: nil, phone: given).phone } else { phone = nil }
            changes.phone = .some(phone)
        }
        let user = try await flow.update(
            context.scope, id: try Self.id(context), changes: changes, roles: try Self.roles(body),
            password: try body.string("password", maxLength: 1024), request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.make(.object(user))
    }

    @Sendable func delete(_ request: Request, context: AdminContext) async throws -> Response {
        try await flow.delete(context.scope, id: try Self.id(context), request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.message("User deleted")
    }

    /// Role references (`name` or `guard:name`), each well formed.
    static func roles(_ body: JSONFields) throws -> [String]? {
        try body.strings("roles", maxCount: 100, maxLength: 100).map { roles in
            for reference in roles {
                let (g, name) = Role.parse(reference: reference)
                guard Role.isValidGuard(g), Role.isValidName(name) else { throw AuthError.invalidInput("roles", "\(reference) is not a role name") }
            }
            return roles
        }
    }
}
