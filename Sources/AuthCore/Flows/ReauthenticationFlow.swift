import PGKit

/// Security requirement 22: before factors change (MFA set-up, toggle, device removal, new
/// recovery codes, new API keys) the session's owner must have proved themselves in it within
/// `settings.reauthenticationWindow` — at login, by a second factor, or here, with the password.
public struct ReauthenticationFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `POST /auth/reauthenticate {password}`: the password (under the account's password-check
    /// cap) renews the session's proof; a wrong one is 401 `INVALID_CREDENTIALS`.
    public func run(_ principal: Principal, password: String, request: AuthRequest) async throws {
        guard principal.apiKeyID == nil else { throw AuthError.accessDenied("An API key cannot re-authenticate", afterAuth: true) }
        _ = try await OwnPasswordCheck(env: env).verify(password, principal: principal, request: request, wrong: AuthError.invalidCredentials)
        try await env.db.tenantStatements(principal.tenant) { try await env.sessions.markAuthenticated(sessionID: principal.session.id, on: $0) }
    }

    /// Throws `REAUTHENTICATION_REQUIRED` unless the session's proof is recent enough.
    func requireRecent(_ principal: Principal, tx: PGTransaction) async throws {
        let window = env.settings.reauthenticationWindow
        guard window > .zero else { return }
        guard try await env.sessions.recentlyAuthenticated(sessionID: principal.session.id, within: window, on: tx) else {
            throw AuthError(.reauthenticationRequired)
        }
    }
}
