import AuthCore
import Logging
import ServiceLifecycle

/// In `authd listen`: runs `ConsumerGroupStore.prune` (nil retention: not at all) and
/// `EventStore.purgeSecrets` at an interval. `authd serve` runs `Housekeeping` for the secrets
/// alone, so one-time codes go even with no listener.
public struct EventRetention: Service {
    let store: ConsumerGroupStore
    let retention: Duration?
    let staleAfter: Duration
    let interval: Duration
    let logger: Logger

    public init(store: ConsumerGroupStore, retention: Duration?, staleAfter: Duration, interval: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.retention = retention
        self.staleAfter = staleAfter
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                do {
                    let purged = try await EventStore().purgeSecrets(on: store.pool)
                    if let retention {
                        let (stale, deleted) = try await store.prune(retention: retention, staleAfter: staleAfter)
                        if stale > 0 || deleted > 0 || purged > 0 {
                            logger.info(
                                "event retention", metadata: ["staleGroups": "\(stale)", "deletedEvents": "\(deleted)", "purgedSecrets": "\(purged)"])
                        }
                    }
                } catch {
                    logger.warning("event retention failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
