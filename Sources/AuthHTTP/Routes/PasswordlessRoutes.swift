import AuthCore
import Hummingbird

/// `POST /auth/passwordless/send {identifier, channel, tenantId?}`: the same answer whether or not
/// the account exists. The login itself is `POST /auth/login` with `providerName: "passwordless"`.
struct PasswordlessRoutes: Sendable {
    let env: AuthEnvironment

    func register(on router: Router<AuthRequestContext>) {
        router.group("auth").post("passwordless/send", use: send)
    }

    @Sendable func send(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        guard let identifier = try body.string("identifier", maxLength: 320), !identifier.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "identifier is required")
        }
        let channel = try body.string("channel", maxLength: 16) ?? (identifier.hasPrefix("+") ? "sms" : "email")
        let tenant = try PasswordResetRoutes.identity(body, request).tenantName
        try await PasswordlessFlow(env: env).send(
            identifier: identifier, channel: channel, tenantName: tenant, request: context.authRequest(request, proxies: env.settings.trustedProxies))
        return JSONResponse.message(PasswordlessFlow.sentMessage)
    }
}
