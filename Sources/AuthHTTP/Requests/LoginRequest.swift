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
        let providerName = try body.string("providerName", maxLength: 64) ?? "email"
        input = LoginInput(
            providerName: providerName,
            email: try credentials.string("email", maxLength: 320), phone: try credentials.string("phone", maxLength: 32),
            password: try credentials.string("password", maxLength: 4096),
            identifier: try credentials.string("identifier", maxLength: 320),
            code: providerName == "email" || providerName == "phone" || providerName == "passwordless"
                ? try credentials.string("code", maxLength: 64) : nil,
            credentials: try Self.providerCredentials(body))
        tenantID = try body.string("tenantId", maxLength: 64)
        rememberMe = try body.bool("rememberMe") ?? true
    }

    /// The credentials for an identity provider: string values only (tokens, codes, user
    /// names), each at most 16 KiB (id tokens are large), at most 32 of them.
    static func providerCredentials(_ body: JSONFields) throws -> JSONObject {
        guard let value = body.object["credentials"], value != .null else { return [:] }
        guard case .object(let o) = value, o.count <= 32 else { throw AuthError.invalidInput("credentials", "must be an object of at most 32 fields") }
        for (key, field) in o {
            switch field {
            case .null: continue
            case .string(let s):
                guard s.utf8.count <= 16_384 else { throw AuthError.invalidInput("credentials.\(key)", "is too long") }
                guard !TextInput.hasControlCharacters(s) else {
                    throw AuthError.invalidInput("credentials.\(key)", "must not contain control characters")
                }
            default:
                throw AuthError.invalidInput("credentials.\(key)", "must be a string")
            }
        }
        return o
    }
}
