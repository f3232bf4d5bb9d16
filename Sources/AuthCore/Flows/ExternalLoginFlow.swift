#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `POST /auth/login` through an identity provider (nest-auth §6.2 steps 2–5, with v2.8's rule):
/// the provider proves the caller with no connection held → tx { the identity's user, else link
/// to the account with the provider-verified e-mail, else create the account through the user
/// lifecycle (its hooks in this transaction) → the shared login transaction (`onLogin`,
/// shaping, MFA unless the provider `skipMfa`, session, `auth.logged_in`) } → COMMIT.
///
/// Linking rules: an identity links to an existing account only by an address the provider
/// verified (`SOCIAL_EMAIL_NOT_VERIFIED` otherwise) and the account verified too
/// (`ACCOUNT_NOT_VERIFIED` otherwise: someone may have signed up with another's address first),
/// and creates one only with such an address. The login that links an existing account passes
/// its MFA even through a `skipMfa` provider.
struct ExternalLoginFlow: Sendable {
    let env: AuthEnvironment
    let identities = IdentityStore()

    func login(_ input: LoginInput, tenantName: String?, request: AuthRequest) async throws -> AuthResponse {
        guard let tenant = try await LoginFlow.unlessUnknown({ try await env.tenants.resolve(tenantName) }) else {
            throw AuthError.invalidCredentials
        }
        let settings = env.settings(for: tenant)
        guard let provider = settings.providers.provider(named: input.providerName, settings: settings) else {
            throw AuthError(.invalidProvider)
        }
        let missing = provider.requiredFields.filter { field in
            switch input.credentials[field] {
            case nil, .null?: true
            case .string(let s)?: s.isEmpty
            default: false
            }
        }
        guard missing.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "\(provider.name) credentials need \(missing.joined(separator: ", "))")
        }
        // Per address, and per the account a provider is asked about (a custom provider that
        // checks passwords is guessed at like a password login).
        let named = provider.requiredFields.first.flatMap { input.credentials[$0]?.stringValue }.map { "\(provider.name):\($0)" }
        try await env.rateLimiter.check(.login, ip: request.ipAddress, identifier: named, scope: RateLimiter.scope(tenant, named: tenantName))
        return try await LogMetadata.withTenant(tenant.slug) {
            let identity: ExternalIdentity
            do {
                identity = try await provider.validate(input.credentials, context: ProviderContext(tenant: tenant, request: request, now: env.now()))
                    .sanitized(provider: provider.name)
            } catch let error as AuthError where error.entry == .invalidCredentials {
                request.logger.debug("provider refused a login", metadata: ["provider": "\(provider.name)", "reason": "\(error.cause.map { "\($0)" } ?? "-")"])
                try await Self.recordFailure(env: env, provider: provider.name, reason: error.code, tenant: tenant, request: request)
                throw error
            }
            let session: LoginSession
            do {
                session = try await loginTransaction(identity, provider: provider, settings: settings, tenant: tenant, request: request)
            } catch let error as AuthError where error.entry == .identityAlreadyLinked || error.entry == .emailAlreadyExists {
                // A first login through the same identity committed while this one ran (a double
                // click): once more, it now finds the identity that one linked.
                session = try await loginTransaction(identity, provider: provider, settings: settings, tenant: tenant, request: request)
            } catch let error as AuthError where error.entry == .socialEmailNotVerified {
                try await Self.recordFailure(env: env, provider: provider.name, reason: error.code, tenant: tenant, request: request)
                throw error
            }
            return try await session.response(env)
        }
    }

    /// The login's transaction: the user (found, linked or created), then the shared login steps.
    private func loginTransaction(
        _ identity: ExternalIdentity, provider: any AuthProvider, settings: AuthSettings, tenant: Tenant, request: AuthRequest
    ) async throws -> LoginSession {
        try await env.db.inTenant(tenant) { tx in
            let (user, linkedNow) = try await resolveUser(
                identity, provider: provider.name, settings: settings, tenant: tenant, request: request, tx: tx)
            guard user.isActive else { throw AuthError.accountInactive }
            // `skipMfa` trusts the provider's own second factor — but not on the login that first
            // links it to an existing account: that one passes the account's MFA, so whoever
            // controls the address alone cannot bypass a factor the owner enrolled.
            return try await LoginFlow.openSession(
                env: env, user: user, stored: nil, tenant: tenant, provider: provider.name, request: request, tx: tx,
                mfaSatisfied: provider.skipMFA && !linkedNow)
        }
    }

    /// The user the identity logs in as (row locked, login stamped): found, linked or created;
    /// and whether the identity was linked to an existing account just now.
    private func resolveUser(
        _ identity: ExternalIdentity, provider: String, settings: AuthSettings, tenant: Tenant, request: AuthRequest, tx: PGTransaction
    ) async throws -> (User, linkedNow: Bool) {
        if let userID = try await identities.use(provider: provider, subject: identity.subject, profile: identity.profile, on: tx) {
            guard let user = try await env.users.stampLogin(id: userID, on: tx) else { throw AuthError.invalidCredentials }
            return (user, false)
        }
        let email = identity.email
        var target: User?
        if let named = identity.userID {
            // A custom provider backed by the operator's directory names the account itself.
            guard let user = try await env.users.find(id: named, forUpdate: true, on: tx) else { throw AuthError.invalidCredentials }
            target = user
        } else if let email, let existing = try await env.users.find(email: email, phone: nil, on: tx) {
            guard identity.emailVerified else { throw AuthError(.socialEmailNotVerified) }
            // An account that never proved its own address may have been set up by someone else
            // with this address (and given a password, passkey, API key or phone of theirs):
            // linking would hand the owner an account shared with them. Its holder verifies the
            // address first; the owner can take it back with a password reset.
            guard existing.emailVerifiedAt != nil else { throw AuthError(.accountNotVerified) }
            target = try await env.users.find(id: existing.id, forUpdate: true, on: tx)
        }
        let created = target == nil
        if target == nil {
            guard settings.registrationEnabled, settings.providerSignup else { throw AuthError.registrationDisabled }
            guard let email, identity.emailVerified else { throw AuthError(.socialEmailNotVerified) }
            target = try await UserLifecycle(env: env).create(
                NewUser(email: email, phone: nil, emailVerified: true), passwordHash: nil, tenant: tenant, tx: tx, logger: request.logger)
        }
        guard let user = target else { throw AuthError.invalidCredentials }
        let identityID = try await identities.link(userID: user.id, provider: provider, subject: identity.subject, profile: identity.profile, on: tx)
        if created {
            try await env.outbox.append(
                AuthEvent(
                    .registered, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: ["provider": .string(provider), "ip": request.ipAddress.map(JSONValue.string) ?? .null]),
                in: tx)
        }
        try await env.outbox.append(
            AuthEvent(
                .identityLinked, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                data: [
                    "identityId": .string(identityID.uuidString.lowercased()), "provider": .string(provider),
                    "accountCreated": .bool(created),
                ]),
            in: tx)
        guard let stamped = try await env.users.stampLogin(id: user.id, on: tx) else { throw AuthError.invalidCredentials }
        return (stamped, !created)
    }

    /// `auth.login_failed` for a refused provider or passkey login (no password counter: nothing
    /// was guessed).
    static func recordFailure(env: AuthEnvironment, provider: String, reason: String, tenant: Tenant, request: AuthRequest) async throws {
        try await env.db.inTenant(tenant) { tx in
            try await env.outbox.append(
                AuthEvent(
                    .loginFailed, tenantID: tenant.id,
                    data: [
                        "reasonCode": .string(reason), "provider": .string(provider), "ip": request.ipAddress.map(JSONValue.string) ?? .null,
                    ]),
                in: tx)
        }
    }
}
