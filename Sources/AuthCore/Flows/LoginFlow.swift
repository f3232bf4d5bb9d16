#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// What `POST /auth/login` carries.
public struct LoginInput: Sendable {
    public var providerName: String
    public var email: String?
    public var phone: String?
    public var password: String?
    /// Passwordless: the address the code went to, and the code.
    public var identifier: String?
    public var code: String?
    /// The whole `credentials` object, for identity providers (`AuthProvider.validate`).
    public var credentials: JSONObject

    public init(
        providerName: String = "email", email: String? = nil, phone: String? = nil, password: String?, identifier: String? = nil,
        code: String? = nil, credentials: JSONObject = [:]
    ) {
        self.credentials = credentials
        self.providerName = providerName
        self.email = email
        self.phone = phone
        self.password = password
        self.identifier = identifier
        self.code = code
    }
}

/// `POST /auth/login` (seed timeline, DESIGN.md §4): `guards.beforeAuth` → read the credential →
/// verify it with no transaction or connection held (a dummy verify for unknown accounts) →
/// tx { one statement confirms the verified hash is still current (a conditional UPDATE that
/// resets the failure counters, stores a rehash, locks the user row and reads roles and
/// permissions) → `onLogin` → shaping →
/// session → `guards.afterAuth` → `auth.logged_in` } → COMMIT → `session.onCreated`.
/// A wrong password commits its `auth.login_failed` event and counter before answering; rate
/// limits come before everything but `beforeAuth`, and a locked account is answered as a wrong
/// password without checking it.
public struct LoginFlow: Sendable {
    let env: AuthEnvironment

    /// A valid hash of a random password: verifying against it costs what a real verify costs.
    static let dummyHashTask = DummyHash()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func run(_ input: LoginInput, tenantName: String?, request: AuthRequest) async throws -> AuthResponse {
        do {
            return try await AuthMetrics.count(AuthMetrics.loginsSucceeded, AuthMetrics.loginsFailed) {
                try await login(input, tenantName: tenantName, request: request)
            }
        } catch {
            throw env.mapError(error, context: "login")
        }
    }

    private func login(_ input: LoginInput, tenantName: String?, request: AuthRequest) async throws -> AuthResponse {
        // The tenant as the hook saw it, so the password flow below judges the same one.
        var resolvedForHook: Tenant??
        if let hook = env.hooks.guards.beforeAuth {
            // The tenant for hooks bound per tenant; an unknown one is the flow's to refuse below
            // (a database failure is a 503 here as there).
            let tenant = try await LoginFlow.unlessUnknown { try await env.tenants.resolve(tenantName) }
            resolvedForHook = .some(tenant)
            let decision = try await HookTenant.$current.withValue(tenant) { try await hook(request) }
            if decision.reject { throw AuthError.accessDenied(decision.reason) }
        }
        if input.providerName == "passwordless" {
            return try await PasswordlessFlow(env: env).login(input, tenantName: tenantName, request: request)
        }
        guard input.providerName == "email" || input.providerName == "phone" else {
            return try await ExternalLoginFlow(env: env).login(input, tenantName: tenantName, request: request)
        }
        let identifier = input.providerName == "email" ? input.email : input.phone
        guard let identifier, !identifier.isEmpty, let password = input.password, !password.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "credentials need \(input.providerName) and password")
        }
        let email = input.providerName == "email" ? Identifier.email(identifier) : nil
        let phone = input.providerName == "phone" ? Identifier.phone(identifier) : nil

        // Unknown tenant, unknown account, wrong password and locked account all answer the
        // same, after the same amount of work.
        let tenant: Tenant?
        if let resolvedForHook { tenant = resolvedForHook } else { tenant = try await Self.unlessUnknown { try await env.tenants.resolve(tenantName) } }
        // Before any work: the address's and the identifier's buckets (the tenant as named when
        // unknown, so probing unknown tenants is limited like the rest). The identifier's bucket
        // is the cap on password checks per account, whatever the addresses and processes.
        try await env.rateLimiter.check(
            .login, ip: request.ipAddress, identifier: email ?? phone,
            scope: RateLimiter.scope(tenant, named: tenantName))
        var found: StoredCredential?
        if let tenant, email != nil || phone != nil {
            found = try await Self.unlessUnknown {
                try await env.db.tenantStatements(tenant) { try await env.users.credentialsFor(email: email, phone: phone, on: $0) }
            } ?? nil
        }
        // The account's own cap (whichever identifier named it); a throwaway bucket when none.
        try await env.rateLimiter.checkAccount(
            found?.user.id, scope: RateLimiter.scope(tenant, named: tenantName))
        guard let tenant, let found, !found.locked else {
            // The same work as a wrong password: one verify, one short write transaction. A
            // locked account's password is not checked at all.
            _ = try await env.verifyPassword(password, await Self.dummyHashTask.value(env))
            try await recordFailure(user: found?.user, locked: found != nil, tenant: tenant, request: request)
            throw AuthError.invalidCredentials
        }
        return try await LogMetadata.withTenant(tenant.slug) {
            try await proceed(input, user: found.user, hash: found.hash, password: password, tenant: tenant, request: request)
        }
    }

    /// After the account was found: verify, then the login transaction.
    private func proceed(_ input: LoginInput, user: User, hash: String, password: String, tenant: Tenant, request: AuthRequest) async throws
        -> AuthResponse
    {
        guard try await env.verifyPassword(password, hash) else {
            try await recordFailure(user: user, locked: false, tenant: tenant, request: request)
            throw AuthError.invalidCredentials
        }
        guard user.isActive else { throw AuthError.accountInactive }
        let rehash = env.hooks.password.hash == nil && env.hasher.needsRehash(hash) ? try await env.hasher.hash(password) : nil
        let session = try await env.db.inTenant(tenant) { tx in
            // One statement: the credential is unchanged since it was verified (else a password
            // change raced us: the verified one is stale), counters reset, user row locked.
            guard let (user, roles, permissions) = try await env.credentials.confirmLogin(
                userID: user.id, verifiedHash: hash, rehash: rehash, on: tx)
            else { throw AuthError.invalidCredentials }
            // A deactivation between the read and now is seen here.
            guard user.isActive else { throw AuthError.accountInactive }
            return try await Self.openSession(
                env: env, user: user, stored: (roles, permissions), tenant: tenant, provider: input.providerName, request: request, tx: tx)
        }
        return try await session.response(env)
    }

    /// The part of the login transaction every way of logging in shares, once the user is proven
    /// and locked: `onLogin` (Swift, then SQL) → shaping → the second factor's state (pending,
    /// unless MFA is off for the user or a trusted-device token vouches) → session with its
    /// `auth.logged_in` → `guards.afterAuth` (still before COMMIT, so a rejection leaves neither
    /// session nor event).
    static func openSession(
        env: AuthEnvironment, user: User, stored known: (roles: [String], permissions: [String])?, tenant: Tenant, provider: String,
        request: AuthRequest, tx: PGTransaction, firstFactor: MFAMethod? = nil, mfaSatisfied: Bool = false
    ) async throws -> LoginSession {
        let stored: (roles: [String], permissions: [String])
        if let known { stored = known } else { stored = try await env.roles.rolesAndPermissions(userID: user.id, on: tx) }
        if let hook = env.hooks.onLogin {
            try await hook(user, AuthHooks.LoginContext(request: request, tenant: tenant, roles: stored.roles, tx: tx))
        }
        _ = try await env.sqlHooks.call(
            .onLogin, tenant: tenant, payload: ["user": .object(user.json), "roles": .array(stored.roles.map(JSONValue.string))],
            in: tx, logger: request.logger)
        let shape = try await SessionShaping(env: env).shape(user: user, tenant: tenant, tx: tx, stored: stored)
        let factors = MFAFactors(env: env)
        var pending: [MFAMethod]?
        var trusted = false
        if mfaSatisfied {
            // The way of logging in counts as both factors (a passkey with user verification, a
            // provider configured with `skipMfa`).
        } else if factors.required(for: user) {
            if let token = MFAFactors.trustToken(in: request),
               try await factors.store.useTrustedDevice(digest: MFAFactors.digest(token), userID: user.id, on: tx)
            {
                trusted = true
            } else {
                // A code to the inbox that just logged in is not a second factor.
                pending = factors.methods(of: user, devices: try await factors.store.devices(userID: user.id, on: tx)).filter { $0 != firstFactor }
            }
        }
        let opened = try await SessionOpener(env: env).open(
            user: user, tenant: tenant, request: request, shape: shape, tx: tx, mfaVerified: trusted || mfaSatisfied, firstFactor: firstFactor
        ) { sessionID in
            AuthEvent(
                .loggedIn, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.session(sessionID, user: user.id),
                data: [
                    "provider": .string(provider), "ip": request.ipAddress.map(JSONValue.string) ?? .null,
                    "userAgent": request.userAgent.map(JSONValue.string) ?? .null, "mfaPending": .bool(pending != nil),
                    "trustedDevice": .bool(trusted),
                ])
        }
        if let hook = env.hooks.guards.afterAuth {
            let decision = try await hook(request, user)
            if decision.reject { throw AuthError.accessDenied(decision.reason, afterAuth: true) }
        }
        return LoginSession(opened: opened, shape: shape, pendingMfa: pending)
    }

    /// The failure's trace, committed in its own short transaction before the 401 goes out: the
    /// account's failure count (unless `locked`: nothing was checked), the lock it may engage with
    /// its `auth.account_locked` event, and `auth.login_failed`. An unknown tenant's failure is
    /// recorded globally (tenant null), so it costs the same work.
    func recordFailure(user: User?, locked: Bool, tenant: Tenant?, request: AuthRequest) async throws {
        let ip = request.ipAddress.map(JSONValue.string) ?? .null
        let event = AuthEvent(
            .loginFailed, tenantID: tenant?.id, subject: user.map { AuthEvent.user($0.id) } ?? [:],
            data: ["reasonCode": .string("INVALID_CREDENTIALS"), "ip": ip, "knownAccount": .bool(user != nil), "accountLocked": .bool(locked)])
        guard let tenant else {
            try await env.db.transaction { tx in try await env.outbox.append(event, in: tx) }
            return
        }
        // The counting statement runs for every failure in a known tenant — for an unknown or
        // locked account against an id that matches nothing — so each costs the same round trips.
        let counted = locked ? nil : user
        try await env.db.inTenant(tenant) { tx in
            if let until = try await env.credentials.recordFailure(userID: counted?.id ?? UUID(), policy: env.settings(for: tenant).lockout, on: tx),
               let user = counted
            {
                AuthMetrics.accountsLocked.increment()
                try await env.outbox.append(
                    AuthEvent(
                        .accountLocked, tenantID: tenant.id, subject: AuthEvent.user(user.id),
                        data: ["lockedUntil": .string(ISO8601.format(until)), "ip": ip]),
                    in: tx)
            }
            try await env.outbox.append(event, in: tx)
        }
    }

    /// `body`'s value, or nil when the tenant is unknown or gone: a login must answer that exactly
    /// as it answers a wrong password. Other failures (the database down) are thrown.
    static func unlessUnknown<T>(_ body: () async throws -> T) async throws -> T? {
        do {
            return try await body()
        } catch let error as AuthError where error.entry == .tenantNotFound {
            return nil
        }
    }
}

/// A lazily computed hash of a random password (made like real ones: `password.hash` hook or
/// argon2id), for dummy verifies of unknown accounts.
actor DummyHash {
    private var hash: String?

    func value(_ env: AuthEnvironment) async -> String {
        if let hash { return hash }
        let random = (try? SecureRandom.bytes(16)).map { Base64.encode($0) } ?? "dummy-password-for-timing"
        // Not cached on failure: an empty hash would verify instantly and reveal the account.
        guard let made = try? await env.hashPassword(random) else { return "$argon2id$v=19$m=19456,t=2,p=1$invalid$invalid" }
        hash = made
        return made
    }
}
