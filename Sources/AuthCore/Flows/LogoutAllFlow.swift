import PGKit

/// `POST /auth/logout-all`: revokes every session of the user in this tenant and records
/// `auth.logged_out_all` with the pre-revocation session list.
public struct LogoutAllFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// Returns how many sessions were revoked.
    @discardableResult
    public func run(_ principal: Principal) async throws -> Int {
        try await env.db.inTenant(principal.tenant) { tx in
            let sessions = try await env.sessions.revokeAll(userID: principal.user.id, reason: "logout_all", on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .loggedOutAll, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id),
                    subject: AuthEvent.user(principal.user.id),
                    data: ["sessionIds": .array(sessions.map { .string($0.id.uuidString.lowercased()) })]), in: tx)
            for session in sessions {
                try await SessionOpener(env: env).revoked(session, reason: "logout_all", tenant: principal.tenant, tx: tx)
            }
            return sessions.count
        }
    }
}
