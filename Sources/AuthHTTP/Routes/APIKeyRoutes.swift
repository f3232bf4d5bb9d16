import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// `GET/POST /auth/api-keys`, `DELETE /auth/api-keys/:id`, and `POST /auth/invite` (guarded).
struct APIKeyRoutes: Sendable {
    let env: AuthEnvironment

    func register(on auth: RouterGroup<AuthenticatedContext>) {
        auth.get("api-keys") { _, context in
            JSONResponse.make(.array(try await APIKeyFlow(env: env).list(context.principal).map(JSONValue.object)))
        }
        auth.post("api-keys", use: create)
        auth.delete("api-keys/:id", use: revoke)
        auth.post("invite", use: invite)
    }

    /// `{email?, phone?, metadata?}` → `{user, isNewUser}` (the token goes only into the event).
    @Sendable func invite(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = JSONFields(context.body)
        var metadata: JSONObject = [:]
        if let value = context.body["metadata"], value != .null {
            guard case .object(let m) = value else { throw AuthError.invalidInput("metadata", "must be an object") }
            metadata = m
        }
        let answer = try await InviteFlow(env: env).invite(
            context.principal, email: try body.string("email", maxLength: 320), phone: try body.string("phone", maxLength: 32), metadata: metadata,
            request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.make(.object(answer))
    }

    /// `{name, expiresInDays?}` (1–3650) → the key, shown once.
    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = JSONFields(context.body)
        let name = try body.string("name", maxLength: 100) ?? ""
        var lifetime: Duration?
        if let value = context.body["expiresInDays"], value != .null {
            guard case .int(let days) = value, (1...3650).contains(days) else { throw AuthError.invalidInput("expiresInDays", "must be 1–3650") }
            lifetime = .seconds(days * 86_400)
        }
        return JSONResponse.make(.object(try await APIKeyFlow(env: env).create(context.principal, name: name, lifetime: lifetime)))
    }

    @Sendable func revoke(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a key id") }
        try await APIKeyFlow(env: env).revoke(context.principal, id: id)
        return JSONResponse.message("API key revoked")
    }
}
