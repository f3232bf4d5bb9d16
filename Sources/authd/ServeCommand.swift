import ArgumentParser
import AuthCore
import AuthHTTP
import Hummingbird
import ServiceLifecycle

/// `authd serve`: the HTTP service. SIGTERM/SIGINT shut it down gracefully: the server stops
/// accepting, in-flight requests finish, then the database pool closes.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    func run() async throws {
        try await Runtime.run(needsKeyring: true, poolSize: nil) { runtime in
            let config = runtime.configuration
            if config.keyringIsEphemeral {
                runtime.logger.warning(
                    "AUTH_SECRET_KEY not set: using a throwaway development keyring (secrets will not survive a restart)")
            }
            let migrator = DatabaseMigrator(registry: runtime.registry)
            let status = try? await migrator.status()
            if let status, !status.isUpToDate {
                runtime.logger.warning("database has pending migrations: run `authd migrate` (/health/ready answers 503 until then)")
            }
            let app = AuthHTTPServer.makeApplication(
                configuration: .init(host: config.httpHost, port: config.httpPort),
                readiness: { try await migrator.status() },
                services: [runtime.pool],
                logger: runtime.logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger))
            try await group.run()
        }
    }
}
