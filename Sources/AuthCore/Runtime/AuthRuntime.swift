import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PGKit
import ServiceLifecycle

/// The composition root: builds authd's core once, the same way for `authd serve` and the tests
/// — the pool, the tenancy service, the signing keys, revocation broadcast and set, the event
/// notifier, the environment the flows use, and the services that must run beside the server.
public final class AuthRuntime: Sendable {
    /// What the runtime is built from (the `authd` executable reads it from the environment).
    public struct Configuration: Sendable {
        public var database: PGPool.Configuration
        /// LISTEN's connection string (a transaction-mode pooler drops LISTEN): nil, the pool's.
        public var listenConninfo: String?
        public var settings: AuthSettings
        public var keyring: Keyring
        public var argon2: PasswordHasher.Parameters
        /// Hashing threads (nil: one per core).
        public var hashThreads: Int?
        /// Hashes waiting or running at most (nil: 8 per hashing thread); beyond it, 503.
        public var hashQueueLimit: Int?
        public var hooks: AuthHooks
        public var sqlHooks: SQLHookBindings
        /// `AUTH_MIGRATIONS_DIR`; nil: the files shipped with the build.
        public var migrationsRoot: String?
        /// Spare tenant schemas kept ready (`TenantSpareKeeper`; 0: none, every create builds one).
        public var tenantSpares: Int
        public var logger: Logger
        /// The clock of what this process issues (tests move it; comparisons are made in SQL).
        public var now: @Sendable () -> Date

        public init(
            database: PGPool.Configuration, listenConninfo: String? = nil, settings: AuthSettings, keyring: Keyring,
            argon2: PasswordHasher.Parameters = .init(), hashThreads: Int? = nil, hashQueueLimit: Int? = nil,
            hooks: AuthHooks = AuthHooks(),
            sqlHooks: SQLHookBindings = SQLHookBindings(), migrationsRoot: String? = nil, tenantSpares: Int = 0,
            logger: Logger = Logger(label: "authd"),
            now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.database = database
            self.listenConninfo = listenConninfo
            self.settings = settings
            self.keyring = keyring
            self.argon2 = argon2
            self.hashThreads = hashThreads
            self.hashQueueLimit = hashQueueLimit
            self.hooks = hooks
            self.sqlHooks = sqlHooks
            self.migrationsRoot = migrationsRoot
            self.tenantSpares = tenantSpares
            self.logger = logger
            self.now = now
        }
    }

    public let configuration: Configuration
    public let pool: PGPool
    public let db: AuthDatabase
    public let registry: TenantRegistry
    public let migrator: DatabaseMigrator
    public let hasher: PasswordHasher
    /// The flows' environment; nil while the database is not migrated (health routes only).
    public let env: AuthEnvironment?
    /// Everything that must run for as long as the server does, the pool last.
    public let services: [any Service]

    /// Builds the runtime. An unmigrated database is no error: `env` is then nil and
    /// `/health/ready` says why, until `authd migrate` ran and authd restarted.
    public static func start(_ configuration: Configuration) async throws -> AuthRuntime {
        guard CommonPasswords.count > 0 else {
            throw AuthRuntimeError("the common-password list (a resource of the AuthCore module) is missing from this installation")
        }
        guard let root = MigrationCatalog.locateRoot(explicit: configuration.migrationsRoot) else {
            throw AuthRuntimeError("no migration files found: install the AuthMigrations resources next to the binary, or set AUTH_MIGRATIONS_DIR")
        }
        let catalog = try MigrationCatalog.load(root: root)
        let logger = configuration.logger
        let pool = PGPool(configuration.database, logger: logger)
        do {
            return try await AuthRuntime(configuration, pool: pool, catalog: catalog)
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    private init(_ configuration: Configuration, pool: PGPool, catalog: MigrationCatalog) async throws {
        let logger = configuration.logger
        self.configuration = configuration
        self.pool = pool
        let db = AuthDatabase(pool: pool)
        self.db = db
        registry = TenantRegistry(db: db, migrations: catalog)
        migrator = DatabaseMigrator(registry: registry)
        // Whether the database is migrated decides what is served: an unreachable database is
        // waited for (a failover at start-up), then refused — never mistaken for "not migrated",
        // which would leave the auth routes off until a restart.
        let status = try await Self.status(migrator, logger: logger)
        if !status.isUpToDate {
            logger.warning("database has pending migrations: run `authd migrate`, then restart authd (/health/ready answers 503 until then)")
        }
        let hasher = PasswordHasher(
            parameters: configuration.argon2, threads: configuration.hashThreads ?? .max, maxPending: configuration.hashQueueLimit)
        self.hasher = hasher
        let assembled: (AuthEnvironment?, [any Service])
        do {
            assembled = try await Self.assemble(configuration, db: db, registry: registry, hasher: hasher, migrated: status.isUpToDate)
        } catch {
            await hasher.shutdown()
            throw error
        }
        env = assembled.0
        // The pool last: a service group stops services in reverse order, so it closes after the rest.
        services = [pool] + assembled.1
    }

    /// The migration status, retried for up to 30 s while the database cannot be reached.
    private static func status(_ migrator: DatabaseMigrator, logger: Logger) async throws -> DatabaseMigrator.Status {
        let deadline = ContinuousClock.now + .seconds(30)
        var delay = Duration.milliseconds(200)
        while true {
            do {
                return try await migrator.status()
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw AuthRuntimeError("the database cannot be reached (\(error)); giving up after 30 s")
                }
                logger.warning("database not reachable yet; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// The environment (nil when not migrated) and the services beside the server (pool excluded).
    private static func assemble(
        _ configuration: Configuration, db: AuthDatabase, registry: TenantRegistry, hasher: PasswordHasher, migrated: Bool
    ) async throws -> (AuthEnvironment?, [any Service]) {
        let logger = configuration.logger
        let afterCommit = AfterCommitQueue(logger: logger)
        let notifier = EventNotifier(db: db)
        let broadcaster = RevocationBroadcaster(db: db)
        let listener = try PGListener(conninfo: configuration.listenConninfo ?? configuration.database.conninfo, logger: logger)
        let revocations = RevocationSet(db: db, listener: listener, retention: configuration.settings.accessTokenTTL + .seconds(60), logger: logger)
        var services: [any Service] = [listener, afterCommit, notifier, broadcaster, revocations]
        guard migrated else {
            services.append(Housekeeping(db: db, jobs: [.purgeSecrets], logger: logger))
            logger.warning("serving health routes only until the database is migrated; restart after `authd migrate`")
            return (nil, services)
        }
        do {
            let tokens = try await TokenService.start(
                settings: configuration.settings, keyring: configuration.keyring,
                keys: SigningKeys(db: db, sealer: SecretSealer(keyring: configuration.keyring)))
            let env = AuthEnvironment(
                db: db, registry: registry, hasher: hasher, tokens: tokens, hooks: configuration.hooks, sqlHooks: configuration.sqlHooks,
                settings: configuration.settings, afterCommit: afterCommit, notifier: notifier, broadcaster: broadcaster,
                revocations: revocations, logger: logger, now: configuration.now)
            services.append(SigningKeyRefresher(tokens: tokens, logger: logger))
            services.append(Housekeeping(db: db, jobs: [.purgeSecrets, .pruneRateLimits], logger: logger))
            if configuration.tenantSpares > 0 {
                services.append(TenantSpareKeeper(registry: registry, target: configuration.tenantSpares, logger: logger))
            }
            return (env, services)
        }
    }

    /// For callers that do not run `services` in a service group (tests): stops the hashing
    /// threads and closes the pool.
    public func shutdown() async {
        await hasher.shutdown()
        await pool.shutdown()
    }
}

/// The runtime cannot be built (an installation problem).
public struct AuthRuntimeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
