/// A signed-in user proving their password again (change-password, re-authentication) is
/// held to what a login is: the account's password-check cap, no check while it is locked (the
/// same work and answer as a wrong password), and a wrong password counted toward the lockout
/// with its `auth.login_failed` — a stolen access token must not become a way to guess freely.
struct OwnPasswordCheck: Sendable {
    let env: AuthEnvironment

    /// The stored hash the password matched; throws `wrong` otherwise.
    func verify(_ password: String, principal: Principal, request: AuthRequest, wrong: AuthError) async throws -> String {
        let (tenant, user) = (principal.tenant, principal.user)
        try await env.rateLimiter.checkAccount(user.id, scope: tenant.id.uuidString)
        guard !password.isEmpty,
              let state = try await env.db.tenantStatements(tenant, { try await env.credentials.passwordState(userID: user.id, on: $0) })
        else { throw wrong }
        if state.locked {
            _ = try await env.verifyPassword(password, await LoginFlow.dummyHashTask.value(env))
            try await LoginFlow(env: env).recordFailure(user: user, locked: true, tenant: tenant, request: request)
            throw wrong
        }
        guard try await env.verifyPassword(password, state.hash) else {
            try await LoginFlow(env: env).recordFailure(user: user, locked: false, tenant: tenant, request: request)
            throw wrong
        }
        return state.hash
    }
}
