import ArgumentParser
import AuthCore
import AuthHTTP
import ServiceLifecycle

/// `authd serve`: the HTTP service. SIGTERM/SIGINT shut it down gracefully: the server stops
/// accepting, in-flight requests finish, queued after-commit hooks run, then the pool closes.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    @Flag(help: "Install the seed pages' example hooks (see Sources/authd/SeedExampleHooks.swift).")
    var exampleHooks = false

    func run() async throws {
        MetricsExporter.bootstrap()
        try await Runtime.reportingFailures {
            let config = try await AuthdConfiguration.load(needsKeyring: true)
            let logger = config.logger
            guard let keyring = config.keyring else { throw ConfigurationProblems(problems: ["no keyring"]) }
            if config.keyringIsEphemeral {
                logger.warning("AUTH_SECRET_KEY not set: using a throwaway development keyring (secrets will not survive a restart)")
            }
            let runtime = try await AuthRuntime.start(
                config.runtime(keyring: keyring, hooks: exampleHooks ? SeedExampleHooks.make(logger: logger) : AuthHooks()))
            MetricsExporter.watch(runtime.pool)
            // The hasher's threads are stopped however the service group ends (the pool is one
            // of the application's services and closes with it).
            do {
                let app = AuthHTTPServer.makeApplication(
                    configuration: .init(host: config.httpHost, port: config.httpPort), runtime: runtime,
                    metrics: config.metricsPort == nil ? MetricsExporter.route : nil,
                    extraServices: config.metricsPort.map { [MetricsExporter.server(host: config.httpHost, port: $0, logger: logger)] } ?? [],
                    logger: logger)
                let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            } catch {
                await runtime.hasher.shutdown()
                throw error
            }
            await runtime.hasher.shutdown()
        }
    }
}
