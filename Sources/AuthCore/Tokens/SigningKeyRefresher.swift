import Logging
import ServiceLifecycle

/// Re-reads the signing keys at an interval, so every process starts signing with a key that
/// `authd keys rotate` (run anywhere) scheduled, and stops using retired ones, without a restart.
public struct SigningKeyRefresher: Service {
    let tokens: TokenService
    let interval: Duration
    let logger: Logger

    public init(tokens: TokenService, interval: Duration = SigningKeys.reloadInterval, logger: Logger = Logger(label: "authd.keys")) {
        self.tokens = tokens
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Sleeping is cancelled by graceful shutdown; the loop then ends.
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                do { try await tokens.reload() } catch {
                    logger.warning("could not reload signing keys; keeping the loaded ones", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
