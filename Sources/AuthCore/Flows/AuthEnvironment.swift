#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import Logging
import PGKit

/// Everything the flows need, built once at start (by `AuthRuntime`) and passed down.
public struct AuthEnvironment: Sendable {
    /// The only way to the database (and where its errors become `AuthError`s).
    public let db: AuthDatabase
    public let registry: TenantRegistry
    public let tenants: TenantDirectory
    public let hasher: PasswordHasher
    public let tokens: TokenService
    public let hooks: AuthHooks
    public let sqlHooks: SQLHookBindings
    public let settings: AuthSettings
    public let afterCommit: AfterCommitQueue
    public let logger: Logger
    /// Broadcasts revoked sessions to every process (nil: this process only).
    public let broadcaster: RevocationBroadcaster?
    /// What this process knows to be revoked (nil: the guard asks the database only).
    public let revocations: RevocationSet?
    /// The shared rate limits (`settings.rateLimits`).
    public let rateLimiter: RateLimiter
    /// HMACs of one-time codes (never stored in clear).
    let codeDigest: KeyedDigest
    /// This process's clock, for what it issues (token times). Comparisons against stored
    /// timestamps never use it: they are made in SQL, by the database's clock.
    let now: @Sendable () -> Date
    let outbox: EventOutbox
    let principals = PrincipalCache()
    let users = UserStore()
    let credentials = CredentialStore()
    let roles = RoleStore()
    let sessions = SessionStore()
    let revocationRows = RevocationStore()
    let codes = OneTimeCodeStore()

    public init(
        db: AuthDatabase, registry: TenantRegistry, hasher: PasswordHasher, tokens: TokenService, hooks: AuthHooks = AuthHooks(),
        sqlHooks: SQLHookBindings = SQLHookBindings(), settings: AuthSettings, afterCommit: AfterCommitQueue,
        notifier: EventNotifier? = nil, broadcaster: RevocationBroadcaster? = nil, revocations: RevocationSet? = nil,
        logger: Logger = Logger(label: "authd"), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.db = db
        self.broadcaster = broadcaster
        self.revocations = revocations
        self.outbox = EventOutbox(notifier: notifier, sealer: SecretSealer(keyring: tokens.keyring))
        self.registry = registry
        let feedInSync: (@Sendable () -> Bool)? = revocations.map { set in { @Sendable in set.isSynced } }
        self.tenants = TenantDirectory(registry: registry, ttl: settings.tenantCacheTTL, feedInSync: feedInSync)
        self.rateLimiter = RateLimiter(limits: settings.rateLimits, db: db, keyring: tokens.keyring)
        self.codeDigest = KeyedDigest(keyring: tokens.keyring, purpose: "one-time codes")
        if let revocations {
            revocations.onTenantChange { [tenants] id in
                if let id { tenants.forget(id) } else { tenants.forgetAll() }
            }
        }
        self.hasher = hasher
        self.tokens = tokens
        self.hooks = hooks
        self.sqlHooks = sqlHooks
        self.settings = settings
        self.afterCommit = afterCommit
        self.logger = logger
        self.now = now
    }

    /// Hashes with the `password.hash` hook or argon2id.
    /// The settings in force for `tenant`: the deployment's with the tenant's own applied.
    public func settings(for tenant: Tenant) -> AuthSettings {
        tenant.overrides == TenantSettings() ? settings : tenant.overrides.applied(to: settings)
    }

    func hashPassword(_ password: String) async throws -> String {
        if let hook = hooks.password.hash { return try await hook(password) }
        return try await Self.unlessOverloaded { try await hasher.hash(password) }
    }

    /// Verifies with the `password.verify` hook or argon2id.
    func verifyPassword(_ password: String, _ hash: String) async throws -> Bool {
        if let hook = hooks.password.verify { return try await hook(password, hash) }
        return try await Self.unlessOverloaded { try await hasher.verify(password, against: hash) }
    }

    /// The hasher's full queue as 503 `SERVICE_UNAVAILABLE` with `Retry-After`.
    private static func unlessOverloaded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch CryptoError.overloaded {
            AuthMetrics.hasherOverloaded.increment()
            throw AuthError(.serviceUnavailable, message: "Too many password checks at once; try again shortly", retryAfter: 1)
        }
    }

    /// Runs a fire-and-forget hook after COMMIT through the bounded queue.
    func afterCommit(_ tx: PGTransaction, _ job: @escaping AfterCommitQueue.Job) {
        let queue = afterCommit
        tx.afterCommit { queue.enqueue(job) }
    }

    /// Applies `errorHandler` to an error leaving a flow.
    func mapError(_ error: any Error, context: String) -> any Error {
        guard let authError = error as? AuthError, let handler = hooks.errorHandler else { return error }
        return handler(authError, context)
    }
}
