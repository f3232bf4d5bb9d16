import PGKit

/// `NOTIFY` (as `pg_notify`, so channel and payload are values): the one way authd sends one.
/// Inside a transaction it is delivered at COMMIT; through the pool, at once.
public struct NotificationStore: Sendable {
    public init() {}

    public func notify(_ channel: String, payload: String = "", on db: some PGQueryable) async throws {
        try await db.query("SELECT pg_notify($1, $2)", channel, payload)
    }
}
