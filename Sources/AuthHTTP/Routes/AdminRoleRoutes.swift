import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// `/auth/admin/api/roles…`, `/permissions…`, `/audit` and `/events/deliveries…` for tenant
/// admins (API.md), behind the guard and `auth.admin`, each with its own permission, in the
/// token's tenant.
struct AdminRoleRoutes: Sendable {
    let env: AuthEnvironment

    func register(on api: RouterGroup<AdminContext>) {
        let read = api.requiring("auth.roles.read")
        read.get("roles") { _, context in JSONResponse.make(.array(try await flow.roles(context.scope).map(JSONValue.object))) }
        read.get("roles/:id") { _, context in JSONResponse.make(.object(try await flow.role(context.scope, id: try Self.id(context)))) }
        read.get("permissions") { request, context in
            let q = QueryFields(request)
            let list = try await flow.permissions(context.scope, category: try q.string("category", maxLength: 64), search: try q.string("search"))
            return JSONResponse.make(.array(list.map(JSONValue.object)))
        }
        let write = api.requiring("auth.roles.write")
        write.post("roles", use: createRole)
        write.patch("roles/:id", use: updateRole)
        write.delete("roles/:id") { _, context in
            try await flow.deleteRole(context.scope, id: try Self.id(context))
            return JSONResponse.message("Role deleted")
        }
        write.post("permissions", use: createPermission)
        write.delete("permissions/:id") { _, context in
            try await flow.deletePermission(context.scope, id: try Self.id(context))
            return JSONResponse.message("Permission deleted")
        }
        api.requiring("auth.audit.read").get("audit", use: audit)
        api.get("settings") { _, context in
            let tenant = context.scope.tenant
            return JSONResponse.make(.object(["settings": .object(tenant.overrides.json), "effective": .object(Self.effective(env.settings(for: tenant)))]))
        }
        api.requiring("auth.settings.write").patch("settings") { _, context in
            let tenant = try await env.registry.updateSettings(id: context.scope.tenant.id, context.body) {
                AuthEvent(.tenantSettingsChanged, tenantID: $0.id, data: ["settings": .object($0.overrides.json)])
            }
            env.tenants.forget(tenant.id)
            return JSONResponse.make(.object(["settings": .object(tenant.overrides.json), "effective": .object(Self.effective(env.settings(for: tenant)))]))
        }
        api.requiring("auth.events.read").get("events/deliveries", use: deliveries)
        api.requiring("auth.events.retry").post("events/deliveries/:group/:event/retry", use: retry)
    }

    /// `?status=pending|dead|done&group&limit`: deliveries of this tenant's events.
    @Sendable func deliveries(_ request: Request, context: AdminContext) async throws -> Response {
        let q = QueryFields(request)
        let (status, group) = (try q.choice("status", ["pending", "dead", "done"]), try q.string("group", maxLength: 63))
        let limit = try q.int("limit", in: 1...500) ?? 100
        let rows = try await env.db.statements {
            try await DeliveryStore().list(tenantID: context.scope.tenant.id, status: status, group: group, limit: limit, on: $0)
        }
        return JSONResponse.make(.object(["data": .array(rows.map(JSONValue.object))]))
    }

    /// Re-queues a dead letter of one of this tenant's events (404 `DELIVERY_NOT_FOUND` otherwise).
    @Sendable func retry(_ request: Request, context: AdminContext) async throws -> Response {
        guard let group = context.parameters.get("group"), (1...63).contains(group.utf8.count), !TextInput.hasControlCharacters(group),
              let event = context.parameters.get("event").flatMap(UUID.init(uuidString:))
        else { throw AuthError.invalidInput("event", "must be a consumer group and an event id") }
        let retried = try await env.db.statements {
            try await DeliveryStore().retry(tenantID: context.scope.tenant.id, group: group, event: event, on: $0)
        }
        guard retried else { throw AuthError(.deliveryNotFound) }
        return JSONResponse.message("Delivery queued again")
    }

    var flow: AdminRoleFlow { AdminRoleFlow(env: env) }

    static func id(_ context: AdminContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be an id") }
        return id
    }

    /// `{name, guard?='web', description?, permissions?}`.
    @Sendable func createRole(_ request: Request, context: AdminContext) async throws -> Response {
        let body = JSONFields(context.body)
        guard let name = try body.string("name", maxLength: 64), Role.isValidName(name) else {
            throw AuthError.invalidInput("name", "1–64 of letters, digits and _ . -")
        }
        let g = try Self.guardField(body)
        let role = try await flow.createRole(
            context.scope, name: name, guard: g, description: try body.string("description", maxLength: 500),
            permissions: try Self.permissions(body) ?? [])
        return JSONResponse.make(.object(role), status: .created)
    }

    /// `{description?, permissions?, isActive?}`; `name` and `guard` cannot change.
    @Sendable func updateRole(_ request: Request, context: AdminContext) async throws -> Response {
        let body = JSONFields(context.body)
        if context.body["name"] != nil { throw AuthError(.roleNameUpdateNotAllowed) }
        if context.body["guard"] != nil { throw AuthError(.roleGuardUpdateNotAllowed) }
        let description: String?? = context.body.keys.contains("description") ? .some(try body.string("description", maxLength: 500)) : nil
        let role = try await flow.updateRole(
            context.scope, id: try Self.id(context), description: description, permissions: try Self.permissions(body),
            isActive: try body.bool("isActive"))
        return JSONResponse.make(.object(role))
    }

    /// `{name, guard?='web', category?, description?}`.
    @Sendable func createPermission(_ request: Request, context: AdminContext) async throws -> Response {
        let body = JSONFields(context.body)
        guard let name = try body.string("name", maxLength: 255), Permission.isValidName(name) else {
            throw AuthError.invalidInput("name", "1–255 of letters, digits and _ . : * -")
        }
        let permission = try await flow.createPermission(
            context.scope, name: name, guard: try Self.guardField(body), category: try body.string("category", maxLength: 64),
            description: try body.string("description", maxLength: 500))
        return JSONResponse.make(.object(permission), status: .created)
    }

    /// `?userId&kind&outcome&from&to&before&limit` → newest first; `before` = the last `id` seen.
    @Sendable func audit(_ request: Request, context: AdminContext) async throws -> Response {
        let q = QueryFields(request)
        let query = AuditLogStore.Query(
            userID: try q.uuid("userId"), kind: try q.string("kind", maxLength: 128), outcome: try q.choice("outcome", ["success", "failure"]),
            from: try q.date("from"), to: try q.date("to"), before: try q.int("before", in: 1...Int.max).map(Int64.init),
            limit: try q.int("limit", in: 1...500) ?? 50)
        let rows = try await env.db.tenantStatements(context.scope.tenant) { try await AuditLogStore().rows(query, on: $0) }
        return JSONResponse.make(.object(["data": .array(rows.map(JSONValue.object))]))
    }

    /// The values in force for the tenant (its own over the deployment's).
    static func effective(_ s: AuthSettings) -> JSONObject {
        [
            "registrationEnabled": .bool(s.registrationEnabled), "autoLoginAfterSignup": .bool(s.autoLoginAfterSignup),
            "passwordMinLength": .int(s.passwordPolicy.minLength), "sessionIdleTimeout": .int(s.sessionIdleTimeout.wholeSeconds),
            "sessionLifetime": .int(s.sessionAbsoluteLifetime.wholeSeconds), "lockoutThreshold": .int(s.lockout.threshold),
        ]
    }

    static func guardField(_ body: JSONFields) throws -> String {
        let g = try body.string("guard", maxLength: 32) ?? Role.defaultGuard
        guard Role.isValidGuard(g) else { throw AuthError.invalidInput("guard", "1–32 of a-z 0-9 _ -") }
        return g
    }

    static func permissions(_ body: JSONFields) throws -> [String]? {
        try body.strings("permissions", maxCount: 500, maxLength: 255).map { list in
            for p in list where !Permission.isValidName(p) { throw AuthError.invalidInput("permissions", "\(p) is not a permission name") }
            return list
        }
    }
}
