import AuthCore

/// `POST /auth/login`: `{providerName?="email", credentials: {email|phone, password} (or, for
/// `passwordless`, {identifier, code}),
/// tenantId?, rememberMe?}`.
struct LoginRequest {
    var input: LoginInput
    var tenantID: String?
    /// False: cookie mode sets session cookies (gone when the browser closes), as nest-auth v2.
    var rememberMe: Bool

    init(_ body: JSONFields) throws {
        let credentials = try body.object("credentials") ?? JSONFields([:], prefix: "credentials.")
        input = LoginInput(
            providerName: try body.string("providerName", maxLength: 64) ?? "email",
            email: try credentials.string("email", maxLength: 320), phone: try credentials.string("phone", maxLength: 32),
            password: try credentials.string("password", maxLength: 4096),
            identifier: try credentials.string("identifier", maxLength: 320), code: try credentials.string("code", maxLength: 64))
        tenantID = try body.string("tenantId", maxLength: 64)
        rememberMe = try body.bool("rememberMe") ?? true
    }
}
