import AuthCore

/// `POST /auth/signup`: `{email?, phone?, password, tenantId?, …profile}`.
struct SignupRequest {
    var email: String?
    var phone: String?
    var password: String
    var tenantID: String?
    /// Every other field, for hooks (authd stores none of it on its own).
    var profile: JSONObject

    init(_ body: JSONFields) throws {
        email = try body.string("email", maxLength: 320)
        phone = try body.string("phone", maxLength: 32)
        tenantID = try body.string("tenantId", maxLength: 64)
        guard let password = try body.string("password", maxLength: 4096), !password.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "password is required")
        }
        self.password = password
        profile = body.rest(excluding: ["email", "phone", "password", "tenantId"])
    }
}
