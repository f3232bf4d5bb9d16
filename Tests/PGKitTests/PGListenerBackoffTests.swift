import TestSupport
import Testing
@testable import PGKit

/// A server that accepts connections but refuses LISTEN — a hot standby, as during a failover —
/// must be retried with backoff, not in a tight reconnect loop.
@Suite struct PGListenerBackoffTests {
    @Test func listenRefusedByAStandbyIsRetriedWithBackoff() async throws {
        try await OwnCluster.with { primary in try await primary.withStandby { try await check($0) } }
    }

    func check(_ standby: OwnCluster) async throws {
        // The standby is usable: it answers queries, and refuses LISTEN.
        let pool = PGPool(.init(conninfo: standby.conninfo(), size: 1))
        let ready = try await eventually(timeout: .seconds(30)) { (try? await pool.query("SELECT 1")) != nil }
        #expect(ready)
        await #expect(throws: PGError.self) { try await pool.query("LISTEN refused") }
        await pool.shutdown()

        let listener = try PGListener(conninfo: standby.conninfo(), backoff: .init(initial: .milliseconds(50), maximum: .milliseconds(400)))
        listener.start()
        let subscription = listener.subscribe(to: ["refused"])
        try await Task.sleep(for: .seconds(2))
        let connections = listener.connectionCount
        subscription.cancel()
        await listener.shutdown()
        // 50 + 100 + 200 + 400 + 400 … ms: about 7 attempts in 2 s (a tight loop made hundreds).
        #expect(connections >= 2 && connections <= 12, "connected \(connections) times in 2 s")
    }
}
