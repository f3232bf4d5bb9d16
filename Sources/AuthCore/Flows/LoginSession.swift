/// A session a login opened: its tokens, its shape, and — when the user must still pass a second
/// factor — the methods they can pass (the tokens then reach only the MFA routes).
struct LoginSession: Sendable {
    var opened: SessionOpener.Opened
    var shape: SessionShaping.Shape
    var pendingMfa: [MFAMethod]?

    /// The AuthResponse (`isRequiresMfa`, `mfaMethods`, `defaultMfaMethod` when MFA is pending).
    func response(_ env: AuthEnvironment) async throws -> AuthResponse {
        var response = try await SessionShaping(env: env).response(
            access: opened.accessToken, refresh: opened.refreshToken.value, shape: shape,
            message: pendingMfa == nil ? "Login successful" : "Multi-factor verification required", context: "login")
        if let pendingMfa {
            response.isRequiresMfa = true
            response.mfaMethods = pendingMfa.map(\.rawValue)
            response.defaultMfaMethod = pendingMfa.first?.rawValue
        }
        return response
    }
}
