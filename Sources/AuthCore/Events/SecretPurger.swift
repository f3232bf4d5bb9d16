import Logging
import ServiceLifecycle

/// Purges events' one-time secrets once delivered to every active group or expired, at an
/// interval, in every `authd serve` (and `authd listen`): codes go even with no listener running.
public struct SecretPurger: Service {
    let db: AuthDatabase
    let interval: Duration
    let logger: Logger

    public init(db: AuthDatabase, interval: Duration = .seconds(60), logger: Logger) {
        self.db = db
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let store = EventStore()
        try? await cancelWhenGracefulShutdown {
            while true {
                do {
                    let purged = try await db.statements { try await store.purgeSecrets(on: $0) }
                    if purged > 0 { logger.debug("purged one-time secrets", metadata: ["count": "\(purged)"]) }
                } catch {
                    logger.warning("could not purge one-time secrets", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
