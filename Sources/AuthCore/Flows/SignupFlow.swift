#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `POST /auth/signup` (seed timeline): `beforeSignup` (pre-tx) → validate → rate limits → hash (no
/// connection held) → tx { `user.beforeCreate` → INSERT → `user.afterCreate` → `onSignup` →
/// shaping → session + tokens → `auth.user.created`, `auth.registered` } → COMMIT →
/// `session.onCreated`.
public struct SignupFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func run(_ rawInput: SignupInput, tenant: Tenant, request: AuthRequest) async throws -> AuthResponse {
        do {
            let response = try await signup(rawInput, tenant: tenant, request: request)
            AuthMetrics.signups.increment()
            return response
        } catch {
            throw env.mapError(error, context: "signup")
        }
    }

    private func signup(_ rawInput: SignupInput, tenant: Tenant, request: AuthRequest) async throws -> AuthResponse {
        let settings = env.settings(for: tenant)
        guard settings.registrationEnabled else { throw AuthError.registrationDisabled }
        var input = rawInput
        if let hook = env.hooks.beforeSignup { input = try await HookTenant.$current.withValue(tenant) { try await hook(input, request) } }
        let (email, phone) = try Identifier.parse(email: input.email, phone: input.phone)
        // Before the hash: a signup costs a hash, so an address can make only so many.
        try await env.rateLimiter.check(.signup, ip: request.ipAddress, identifier: email ?? phone, scope: tenant.id.uuidString)
        try settings.passwordPolicy.check(input.password, context: PasswordPolicy.contextWords(email: email, phone: phone, tenant: tenant))
        let hash = try await env.hashPassword(input.password)
        let shaping = SessionShaping(env: env)

        let (user, opened, shape) = try await env.db.inTenant(tenant) { tx -> (User, SessionOpener.Opened?, SessionShaping.Shape) in
            let user = try await UserLifecycle(env: env).create(
                NewUser(email: email, phone: phone), passwordHash: hash, tenant: tenant, tx: tx, logger: request.logger)
            if let hook = env.hooks.onSignup {
                try await hook(user, input, AuthHooks.SignupContext(request: request, tenant: tenant, tx: tx))
            }
            _ = try await env.sqlHooks.call(
                .onSignup, tenant: tenant, payload: ["user": .object(user.json), "profile": .object(input.profile)], in: tx,
                logger: request.logger)
            // Roles assigned by onSignup land in the first token: shaping reads them now.
            let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx)
            let opened = settings.autoLoginAfterSignup
                ? try await SessionOpener(env: env).open(user: user, tenant: tenant, request: request, shape: shape, tx: tx) : nil
            try await env.outbox.append(
                AuthEvent(
                    .registered, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: [
                        "sessionId": opened.map { .string($0.session.id.uuidString.lowercased()) } ?? .null,
                        "ip": request.ipAddress.map(JSONValue.string) ?? .null,
                    ]),
                in: tx)
            return (user, opened, shape)
        }
        _ = user
        return try await shaping.response(
            access: opened?.accessToken ?? "", refresh: opened?.refreshToken.value ?? "", shape: shape,
            message: "Signup successful", context: "signup")
    }
}
