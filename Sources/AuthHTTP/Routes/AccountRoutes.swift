import AuthCore
import Hummingbird

/// The guarded account-security routes of API.md: change the password; verify the account's
/// e-mail address or phone number with a code.
struct AccountRoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    func register(on auth: RouterGroup<AuthenticatedContext>) {
        auth.post("change-password", use: changePassword)
        auth.post("reauthenticate") { request, context in
            let password = try JSONFields(context.body).string("password", maxLength: 4096) ?? ""
            try await ReauthenticationFlow(env: env).run(
                context.principal, password: password, request: context.authRequest(request, proxies: env.settings.trustedProxies))
            return JSONResponse.message("Re-authenticated")
        }
        auth.post("send-email-verification") { request, context in try await send(.email, request, context) }
        auth.post("verify-email") { request, context in try await verify(.email, request, context) }
        auth.post("send-phone-verification") { request, context in try await send(.phone, request, context) }
        auth.post("verify-phone") { request, context in try await verify(.phone, request, context) }
    }

    /// `{currentPassword, newPassword}` → a new AuthResponse (every earlier session has ended).
    @Sendable func changePassword(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = JSONFields(context.body)
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let current = try body.string("currentPassword", maxLength: 4096) ?? ""
        let new = try body.string("newPassword", maxLength: 4096) ?? ""
        let response = try await ChangePasswordFlow(env: env).run(current: current, new: new, principal: context.principal, request: auth)
        let mode = try await transport.mode(for: request, auth: auth)
        return transport.respond(response, mode: mode, persistent: !transport.isSessionOnly(request))
    }

    func send(_ target: VerificationFlow.Target, _ request: Request, _ context: AuthenticatedContext) async throws -> Response {
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        try await VerificationFlow(env: env).send(target, principal: context.principal, request: auth)
        return JSONResponse.message("Verification code sent")
    }

    /// `{code}`.
    func verify(_ target: VerificationFlow.Target, _ request: Request, _ context: AuthenticatedContext) async throws -> Response {
        let code = try JSONFields(context.body).string("code", maxLength: 64) ?? ""
        guard !code.isEmpty else { throw AuthError(.missingRequiredFields, message: "code is required") }
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        try await VerificationFlow(env: env).verify(target, code: code, principal: context.principal, request: auth)
        return JSONResponse.message(target == .email ? "Email verified successfully" : "Phone verified successfully")
    }
}
