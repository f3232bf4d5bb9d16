import AuthCore
import AuthEvents
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit
import Synchronization
import TestSupport
import Testing

/// PostgreSQL restarted under a running consumer (on a cluster of the test's own): the listener
/// reconnects, the pool replaces its dead connections, and every event — before, and committed
/// right after the restart — is delivered, with a poll interval far longer than the test.
@Suite struct PostgresRestartTests {
    @Test func consumerReconnectsAndCatchesUpAfterARestart() async throws {
        try await OwnCluster.with { try await run($0) }
    }

    func run(_ cluster: OwnCluster) async throws {
        let conninfo = try await cluster.createDatabase("authd")
        let pool = PGPool(.init(conninfo: conninfo, size: 2, acquireTimeout: .seconds(30)))
        try await DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: try TestDatabase.catalog())).migrate()
        let listener = try PGListener(conninfo: conninfo)
        listener.start()
        let seen = Mutex<Set<UUID>>([])
        let t = "test.restart"
        let consumer = EventConsumer(
            group: "restart", pool: pool, listener: listener,
            options: .init(subscriptions: [t], start: .oldest, pollInterval: .seconds(60), baseBackoff: .zero)
        ) { event in
            _ = seen.withLock { $0.insert(event.id) }
        }
        let notifier = EventNotifier(db: AuthDatabase(pool: pool))
        func append(_ n: Int) async throws -> [UUID] {
            try await pool.withTransaction { tx in
                let events = (0..<n).map { _ in AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil) }
                try await EventOutbox(notifier: notifier).append(events, in: tx)
                return events.map(\.id)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            group.addTask { try await notifier.run() }
            let before = try await append(5)
            let first = try await eventually(timeout: .seconds(10)) { seen.withLock { $0 }.isSuperset(of: before) }
            #expect(first)

            try await cluster.restart()
            // Committed as soon as the server takes connections again — possibly before the
            // listener has reconnected (its NOTIFY is then lost; the reconnect's resync is not).
            var after: [UUID] = []
            let committed = try await eventually(timeout: .seconds(20), interval: .milliseconds(50)) {
                guard let ids = try? await append(5) else { return false }
                after = ids
                return true
            }
            #expect(committed)
            let caughtUp = try await eventually(timeout: .seconds(20)) { seen.withLock { $0 }.isSuperset(of: after) }
            #expect(caughtUp, "events committed after the restart were delivered without waiting for the 60 s poll")
            group.cancelAll()
        }
        await listener.shutdown()
        await pool.shutdown()
    }
}
