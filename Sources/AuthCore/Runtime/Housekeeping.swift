import Logging
import ServiceLifecycle

/// Periodic deletions every `authd serve` runs, so they happen with no listener running: events' one-time secrets once delivered to every active group or
/// expired, and rate-limit buckets that have drained. Each job is one bounded statement; running
/// it in several processes at once is harmless.
public struct Housekeeping: Service {
    /// One periodic deletion: its name (for logs) and the statement, returning rows removed.
    public struct Job: Sendable {
        public var name: String
        public var run: @Sendable (AuthDatabase) async throws -> Int

        public init(_ name: String, run: @escaping @Sendable (AuthDatabase) async throws -> Int) {
            self.name = name
            self.run = run
        }

        /// Purges events' delivered or expired one-time secrets.
        public static let purgeSecrets = Job("one-time secrets") { db in
            try await db.statements { try await EventStore().purgeSecrets(on: $0) }
        }

        /// Deletes drained rate-limit buckets (needs the migrated schema).
        public static let pruneRateLimits = Job("rate-limit buckets") { db in
            try await db.statements { try await RateLimitStore().prune(on: $0) }
        }
    }

    let db: AuthDatabase
    let jobs: [Job]
    let interval: Duration
    let logger: Logger

    public init(db: AuthDatabase, jobs: [Job], interval: Duration = .seconds(60), logger: Logger) {
        self.db = db
        self.jobs = jobs
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                for job in jobs {
                    do {
                        let removed = try await job.run(db)
                        if removed > 0 { logger.debug("housekeeping removed rows", metadata: ["job": "\(job.name)", "count": "\(removed)"]) }
                    } catch {
                        logger.warning("housekeeping failed", metadata: ["job": "\(job.name)", "error": "\(error)"])
                    }
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
