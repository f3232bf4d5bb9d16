import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// Tenants for platform admins (`/auth/admin/api/tenants`: list, create, rename, disable or
/// enable, delete — through the tenancy service) and the cross-tenant user lookup.
struct ConsoleTenantRoutes: Sendable {
    let env: AuthEnvironment

    func register(on console: RouterGroup<ConsoleContext>) {
        console.get("api/tenants") { _, _ in JSONResponse.make(.array(try await env.registry.list().map { .object($0.json) })) }
        console.post("api/tenants") { _, context in
            let body = JSONFields(context.body)
            guard let slug = try body.string("slug", maxLength: 63) else { throw AuthError.invalidInput("slug", "is required") }
            let tenant = try await env.registry.create(slug: slug, name: try body.string("name", maxLength: 200)) {
                AuthEvent(.platformTenantCreated, tenantID: nil, data: ["tenant": .object($0.json)])
            }
            return JSONResponse.make(.object(tenant.json), status: .created)
        }
        console.patch("api/tenants/:id") { _, context in
            let body = JSONFields(context.body)
            var status: Tenant.Status?
            if let isActive = try body.bool("isActive") { status = isActive ? .active : .disabled }
            let tenant = try await env.registry.update(id: try Self.id(context), name: try body.string("name", maxLength: 200), status: status) {
                AuthEvent(.platformTenantUpdated, tenantID: nil, data: ["tenant": .object($0.json)])
            }
            env.tenants.forget(tenant.id)
            return JSONResponse.make(.object(tenant.json))
        }
        console.delete("api/tenants/:id") { _, context in
            guard let tenant = try await env.registry.find(try Self.id(context).uuidString) else { throw AuthError.tenantNotFound }
            try await env.registry.delete(slug: tenant.slug) {
                AuthEvent(.platformTenantDeleted, tenantID: nil, data: ["tenant": .object(["id": .string($0.id.uuidString.lowercased()), "slug": .string($0.slug)])])
            }
            return JSONResponse.message("Tenant deleted")
        }
        console.get("api/platform/audit") { request, _ in
            let q = QueryFields(request)
            let (before, limit) = (try q.int("before", in: 1...Int.max).map(Int64.init), try q.int("limit", in: 1...500) ?? 50)
            let rows = try await env.db.statements { try await AuditLogStore().platformRows(before: before, limit: limit, on: $0) }
            return JSONResponse.make(.object(["data": .array(rows.map(JSONValue.object))]))
        }
        // Which tenants have a user with this e-mail (support: "which account is mine?").
        console.get("api/platform/users") { request, _ in
            guard let raw = try QueryFields(request).string("email", maxLength: 320), let email = Identifier.email(raw) else {
                throw AuthError(.invalidEmailFormat)
            }
            var found: [JSONValue] = []
            for tenant in try await env.registry.list() {
                guard let user = try await env.db.tenantStatements(tenant, { try await UserStore().find(email: email, phone: nil, on: $0) }) else { continue }
                found.append(.object(["tenant": .object(["id": .string(tenant.id.uuidString.lowercased()), "slug": .string(tenant.slug)]),
                                      "user": .object(user.json)]))
            }
            return JSONResponse.make(.object(["data": .array(found)]))
        }
    }

    static func id(_ context: ConsoleContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a tenant id") }
        return id
    }
}
