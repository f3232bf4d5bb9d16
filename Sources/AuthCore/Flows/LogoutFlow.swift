import PGKit

/// `POST /auth/logout`: revokes the caller's session (if any) and records `auth.logged_out`.
/// Always succeeds for the client: logging out twice, or with no valid token, is not an error.
public struct LogoutFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func run(_ principal: Principal?) async throws {
        guard let principal else { return }
        try await env.registry.withTenantTransaction(principal.tenant) { tx in
            guard let session = try await env.sessions.revoke(sessionID: principal.session.id, reason: "logout", in: tx) else { return }
            try await env.outbox.append(
                AuthEvent(
                    .loggedOut, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id),
                    subject: AuthEvent.session(session.id, user: principal.user.id)), in: tx)
            try await SessionOpener(env: env).revoked(session, reason: "logout", tenant: principal.tenant, tx: tx)
        }
    }
}
