import ArgumentParser
import AsyncHTTPClient
import AuthCore
import AuthCrypto
import AuthEvents
import PGKit
import ServiceLifecycle
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `authd listen`: runs consumer groups in this process. Several `authd listen` processes may
/// run the same groups at once; they share the work. SIGTERM/SIGINT stop claiming, finish the
/// event in hand and give the rest of the batch back.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen", abstract: "Deliver outbox events to consumer groups.",
        discussion: """
            --consumer KIND[:GROUP][=URL] (repeatable): log (JSON lines on stdout, group "log"), \
            example-login (the seed page's login listener, group "example-login"), \
            webhook:GROUP=URL (Standard Webhooks POSTs signed with AUTH_WEBHOOK_SECRET, whsec_…), \
            mailcatcher (development only: one-time codes with their recipient, on stderr).
            """)

    @Option(name: .customLong("consumer"), help: "KIND[:GROUP][=URL]; repeatable.")
    var consumers: [String] = ["log"]

    @Option(help: "Event types (or prefixes like auth.user.*) for the log consumer.")
    var subscribe: [String] = ["*"]

    @Option(help: "Where a group that does not exist yet starts: now or oldest.")
    var start = "now"

    @Option(help: "Hours events are kept once every active group has finished them.")
    var retentionHours = 168

    @Option(help: "Hours after which a group not seen is marked stale and stops holding events back.")
    var staleGroupHours = 24

    @Option(help: "Seconds a claimed event stays leased (renewed while its handler runs); a crashed worker's claims return after this.")
    var leaseSeconds = 30

    func validate() throws {
        guard ["now", "oldest"].contains(start) else { throw ValidationError("--start must be now or oldest") }
        guard (1...3600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 1–3600") }
        for spec in consumers {
            let (kind, _, url) = Self.parse(spec)
            guard ["log", "example-login", "webhook", "mailcatcher"].contains(kind) else {
                throw ValidationError("unknown consumer kind \(kind)")
            }
            if kind == "webhook" {
                guard let url, url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw ValidationError("webhook consumers are webhook:GROUP=http(s)://…")
                }
            }
        }
    }

    /// `kind[:group][=url]`.
    static func parse(_ spec: String) -> (kind: String, group: String, url: String?) {
        let (head, url): (Substring, String?) = spec.firstIndex(of: "=").map { (spec[..<$0], String(spec[spec.index(after: $0)...])) }
            ?? (spec[...], nil)
        let parts = head.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.first ?? ""
        return (kind, parts.count > 1 ? parts[1] : kind, url)
    }

    func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await listen(http)
            try? await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func listen(_ http: HTTPClient) async throws {
        MetricsExporter.bootstrap()
        try await Runtime.run(poolSize: 4) { runtime in
            MetricsExporter.watch(runtime.pool)
            let listener = try PGListener(
                conninfo: runtime.configuration.listenURL ?? runtime.configuration.database.conninfo, logger: runtime.logger)
            let roleSync = AfterCommitQueue(logger: runtime.logger)
            var services: [any Service] = [
                runtime.pool, listener, roleSync,
                EventRetention(
                    store: ConsumerGroupStore(pool: runtime.pool), retention: .seconds(retentionHours * 3600),
                    staleAfter: .seconds(staleGroupHours * 3600), logger: runtime.logger),
            ]
            var consumerList: [EventConsumer] = []
            for spec in consumers {
                let (kind, group, url) = Self.parse(spec)
                var options = EventConsumer.Options(start: start == "oldest" ? .oldest : .now, lease: .seconds(leaseSeconds))
                let handler: EventConsumer.Handler
                switch kind {
                case "webhook":
                    guard let secretText = ProcessInfo.processInfo.environment["AUTH_WEBHOOK_SECRET"] else {
                        throw ConfigurationProblems(problems: ["AUTH_WEBHOOK_SECRET is not set (whsec_ + base64 of ≥ 24 random bytes)"])
                    }
                    let secret: WebhookConsumer.Secret
                    do { secret = try WebhookConsumer.Secret(secretText) } catch {
                        throw ConfigurationProblems(problems: ["AUTH_WEBHOOK_SECRET: \(error)"])
                    }
                    options.subscriptions = subscribe
                    // With AUTH_SECRET_KEY the endpoint also gets events' one-time codes (signed body).
                    handler = WebhookConsumer(
                        url: url ?? "", secret: secret, client: http,
                        sealer: runtime.configuration.keyring.map(SecretSealer.init(keyring:))).handler()
                case "mailcatcher":
                    guard runtime.configuration.environment == .development, let keyring = runtime.configuration.keyring else {
                        throw ConfigurationProblems(problems: [
                            "the mailcatcher consumer prints one-time codes: it runs only with AUTH_ENV=development and AUTH_SECRET_KEY set"
                        ])
                    }
                    handler = MailCatcherConsumer(sealer: SecretSealer(keyring: keyring)).handler()
                case "example-login":
                    options.subscriptions = [AuthEvent.Name.loggedIn.rawValue]
                    handler = ExampleLoginConsumer(registry: runtime.registry, roleSync: roleSync, logger: runtime.logger).handler()
                default:
                    options.subscriptions = subscribe
                    handler = LogConsumer.handler()
                }
                consumerList.append(
                    EventConsumer(group: group, pool: runtime.pool, listener: listener, options: options, logger: runtime.logger, handler: handler))
            }
            services.append(ConsumerSet(consumerList))
            if let port = runtime.configuration.metricsPort {
                services.append(MetricsExporter.server(host: runtime.configuration.httpHost, port: port, logger: runtime.logger))
            }
            runtime.logger.info("listening", metadata: ["consumers": "\(consumers.joined(separator: ","))"])
            var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger)
            // SIGTERM lets handlers in hand finish; one still running after a lease is cancelled
            // (its event goes back to the group).
            group.maximumGracefulShutdownDuration = .seconds(max(5, leaseSeconds))
            try await ServiceGroup(configuration: group).run()
        }
    }
}
