import AuthCore
import HTTPTypes
import Hummingbird

/// The public password-reset routes of API.md: forgot-password (the same answer for every
/// address), the code for a reset token, the reset itself (no login follows).
struct PasswordResetRoutes: Sendable {
    let env: AuthEnvironment

    func register(on router: Router<AuthRequestContext>) {
        let auth = router.group("auth")
        auth.post("forgot-password", use: forgot)
        auth.post("verify-forgot-password-otp", use: verifyCode)
        auth.post("reset-password", use: reset)
    }

    /// `{email|phone, tenantId?}` → always the same 200.
    @Sendable func forgot(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let identity = try Self.identity(body, request)
        try await PasswordResetFlow(env: env).forgot(identity, request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.message(PasswordResetFlow.forgotMessage)
    }

    /// `{email|phone, code, tenantId?}` → `{resetToken}`.
    @Sendable func verifyCode(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let identity = try Self.identity(body, request)
        let code = try body.string("code", maxLength: 64) ?? ""
        guard !code.isEmpty else { throw AuthError(.missingRequiredFields, message: "code is required") }
        let token = try await PasswordResetFlow(env: env).verifyCode(
            identity, code: code, request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.make(.object(["resetToken": .string(token), "message": .string("Code verified")]))
    }

    /// `{token, newPassword}`.
    @Sendable func reset(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let token = try body.string("token", maxLength: 256) ?? ""
        let newPassword = try body.string("newPassword", maxLength: 4096) ?? ""
        guard !token.isEmpty else { throw AuthError(.missingRequiredFields, message: "token is required") }
        try await PasswordResetFlow(env: env).reset(
            token: token, newPassword: newPassword, request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.message("Password reset successfully")
    }

    /// The account a body names, and its tenant (body `tenantId`, else header `x-tenant-id`).
    static func identity(_ body: JSONFields, _ request: Request) throws -> PasswordResetFlow.Identity {
        var tenant = try body.string("tenantId", maxLength: 64).flatMap { $0.isEmpty ? nil : $0 }
        if tenant == nil, let named = request.headers[HTTPField.Name("x-tenant-id")!], !named.isEmpty {
            guard named.utf8.count <= 64, !TextInput.hasControlCharacters(named) else {
                throw AuthError.invalidInput("x-tenant-id", "is not a tenant id or slug")
            }
            tenant = named
        }
        return PasswordResetFlow.Identity(
            email: try body.string("email", maxLength: 320), phone: try body.string("phone", maxLength: 32), tenantName: tenant)
    }
}
