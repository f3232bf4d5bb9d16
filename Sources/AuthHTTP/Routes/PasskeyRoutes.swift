import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// Passkeys (API.md): `POST /auth/passkeys/register/options|verify` (guarded, MFA passed),
/// `POST /auth/passkeys/login/options|verify` (public), `GET /auth/passkeys`,
/// `PATCH|DELETE /auth/passkeys/:id` (guarded).
struct PasskeyRoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    func register(public router: Router<AuthRequestContext>, guarded: RouterGroup<AuthenticatedContext>) {
        let open = router.group("auth/passkeys/login")
        open.post("options", use: loginOptions)
        open.post("verify", use: loginVerify)
        guarded.post("passkeys/register/options") { _, context in
            JSONResponse.make(.object(try await PasskeyFlow(env: env).registrationOptions(context.principal)))
        }
        guarded.post("passkeys/register/verify") { _, context in
            let body = JSONFields(context.body)
            let made = try await PasskeyFlow(env: env).register(
                context.principal, credential: try Self.credential(context.body), name: try body.string("name", maxLength: 100))
            return JSONResponse.make(.object(made), status: .created)
        }
        guarded.get("passkeys") { _, context in
            JSONResponse.make(.array(try await PasskeyFlow(env: env).list(context.principal).map(JSONValue.object)))
        }
        guarded.patch("passkeys/:id") { _, context in
            try await PasskeyFlow(env: env).rename(
                context.principal, id: try Self.id(context.parameters.get("id")), name: try JSONFields(context.body).string("name", maxLength: 100) ?? "")
            return JSONResponse.message("Passkey renamed")
        }
        guarded.delete("passkeys/:id") { _, context in
            try await PasskeyFlow(env: env).delete(context.principal, id: try Self.id(context.parameters.get("id")))
            return JSONResponse.message("Passkey deleted")
        }
    }

    /// `{tenantId?}` (or `x-tenant-id`) → request options for a usernameless login.
    @Sendable func loginOptions(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let tenant = try body.string("tenantId", maxLength: 64).flatMap { $0.isEmpty ? nil : $0 } ?? TenantHeader.value(request)
        return JSONResponse.make(.object(try await PasskeyFlow(env: env).loginOptions(tenantName: tenant, request: auth)))
    }

    /// `{credential, tenantId?, rememberMe?}` → AuthResponse (tokens as login gives them).
    @Sendable func loginVerify(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let object = try await RequestBody.json(request, context: context)
        let body = JSONFields(object)
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let mode = try await transport.mode(for: request, auth: auth)
        if mode == .cookie { try transport.csrf.checkOrigin(request) }
        let tenant = try body.string("tenantId", maxLength: 64).flatMap { $0.isEmpty ? nil : $0 } ?? TenantHeader.value(request)
        let persistent = try body.bool("rememberMe") ?? true
        let response = try await PasskeyFlow(env: env).login(credential: try Self.credential(object), tenantName: tenant, request: auth)
        return transport.respond(response, mode: mode, persistent: persistent)
    }

    /// The `credential` object: strings (base64url) and string arrays only, bounded.
    static func credential(_ body: JSONObject) throws -> JSONObject {
        guard case .object(let credential)? = body["credential"] else {
            throw AuthError.invalidInput("credential", "is required (PublicKeyCredential.toJSON())")
        }
        guard credential.jsonTextSize <= 32 * 1024 else { throw AuthError.invalidInput("credential", "is too large") }
        return credential
    }

    static func id(_ text: String?) throws -> UUID {
        guard let id = text.flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a passkey id") }
        return id
    }
}

extension JSONObject {
    /// The size of the object written as JSON.
    var jsonTextSize: Int { JSONValue.object(self).jsonText.utf8.count }
}
