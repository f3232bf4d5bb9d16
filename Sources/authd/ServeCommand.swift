import ArgumentParser
import AuthCore
import AuthCrypto
import AuthEvents
import AuthHTTP
import Hummingbird
import PGKit
import ServiceLifecycle

/// `authd serve`: the HTTP service. SIGTERM/SIGINT shut it down gracefully: the server stops
/// accepting, in-flight requests finish, queued after-commit hooks run, then the pool closes.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    @Flag(help: "Install the seed pages' example hooks (see Sources/authd/SeedExampleHooks.swift).")
    var exampleHooks = false

    func run() async throws {
        MetricsExporter.bootstrap()
        try await Runtime.run(needsKeyring: true, poolSize: nil) { runtime in
            let config = runtime.configuration
            guard let keyring = config.keyring else { throw ConfigurationProblems(problems: ["no keyring"]) }
            if config.keyringIsEphemeral {
                runtime.logger.warning(
                    "AUTH_SECRET_KEY not set: using a throwaway development keyring (secrets will not survive a restart)")
            }
            let migrator = DatabaseMigrator(registry: runtime.registry)
            let status = try? await migrator.status()
            if let status, !status.isUpToDate {
                runtime.logger.warning("database has pending migrations: run `authd migrate` (/health/ready answers 503 until then)")
            }
            let hasher = PasswordHasher(parameters: config.argon2)
            let afterCommit = AfterCommitQueue(logger: runtime.logger)
            var env: AuthEnvironment?
            let notifier = EventNotifier(pool: runtime.pool)
            let broadcaster = RevocationBroadcaster(pool: runtime.pool)
            let listener = try PGListener(conninfo: config.databaseURL, logger: runtime.logger)
            let revocations = RevocationSet(
                pool: runtime.pool, listener: listener, retention: config.settings.accessTokenTTL + .seconds(60), logger: runtime.logger)
            var services: [any Service] = [runtime.pool, listener, afterCommit, notifier, broadcaster, revocations]
            // One-time codes in events are purged once delivered or expired, listener or not.
            services.append(
                EventRetention(store: ConsumerGroupStore(pool: runtime.pool), retention: nil, staleAfter: .zero, logger: runtime.logger))
            if status?.isUpToDate == true {
                let tokens = try await TokenService.start(
                    settings: config.settings, keyring: keyring,
                    store: SigningKeyStore(pool: runtime.pool, sealer: SecretSealer(keyring: keyring)))
                env = AuthEnvironment(
                    pool: runtime.pool, registry: runtime.registry, hasher: hasher, tokens: tokens,
                    hooks: exampleHooks ? SeedExampleHooks.make(logger: runtime.logger) : AuthHooks(),
                    sqlHooks: config.sqlHooks, settings: config.settings, afterCommit: afterCommit, notifier: notifier,
                    broadcaster: broadcaster, revocations: revocations, logger: runtime.logger)
                services.append(SigningKeyRefresher(tokens: tokens, logger: runtime.logger))
            } else {
                runtime.logger.warning("serving health routes only until the database is migrated; restart after `authd migrate`")
            }
            let app = AuthHTTPServer.makeApplication(
                configuration: .init(host: config.httpHost, port: config.httpPort),
                readiness: { try await migrator.status() },
                env: env,
                metrics: config.metricsPort == nil ? MetricsExporter.route : nil,
                services: services + (config.metricsPort.map { [MetricsExporter.server(host: config.httpHost, port: $0, logger: runtime.logger)] } ?? []),
                logger: runtime.logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger))
            try await group.run()
            await hasher.shutdown()
        }
    }
}
