#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import AuthCore
import AuthEvents
import PGKit

/// A consumer group with a large backlog (issue: a claim scanned and sorted the whole backlog
/// under the group's lock): how long one claim of 100 takes with 200,000 deliveries pending —
/// with the claim index, and in the same run without it (dropped inside a transaction that is
/// rolled back) — and how long one in-process worker takes to catch up on 100,000 events.
struct BacklogBench: Sendable {
    let conninfo: String

    func run() async throws -> [BenchRow] {
        let pool = PGPool(.init(conninfo: conninfo, size: 4))
        do {
            let rows = try await run(pool)
            await pool.shutdown()
            return rows
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    private func run(_ pool: PGPool) async throws -> [BenchRow] {
        let store = ConsumerGroupStore(pool: pool)
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let group = "bench-claim-\(suffix)", type = "bench.claim.\(suffix)"
        try await store.ensure(group: group, subscriptions: [type], start: .now)
        // 200,000 pending deliveries, written in bulk.
        try await pool.withTransaction { tx in
            try await tx.query("INSERT INTO auth.events (id, type) SELECT gen_random_uuid(), $1 FROM generate_series(1, 200000)", type)
            try await tx.query(
                """
                INSERT INTO auth.event_deliveries (group_name, event_id, created_at)
                SELECT $1, id, now() + make_interval(secs => row_number() OVER () / 1000.0) FROM auth.events WHERE type = $2
                """, group, type)
        }
        try await pool.query("ANALYZE auth.event_deliveries")
        var with: [Double] = []
        for _ in 0..<20 {
            let t0 = ContinuousClock.now
            let batch = try await store.claim(group: group, owner: "bench", limit: 100, lease: .seconds(60))
            with.append(elapsed(since: t0) * 1000)
            _ = try await store.completeAll(group: group, events: batch.map(\.id), owner: "bench")
        }
        struct Rollback: Error {}
        let without = Shared([Double]())
        _ = try? await pool.withTransaction { tx in
            try await tx.query("DROP INDEX auth.event_deliveries_claim_idx")
            for _ in 0..<5 {
                let t0 = ContinuousClock.now
                _ = try await ConsumerGroupStore.claim(group: group, owner: "bench-noindex", limit: 100, lease: .seconds(60), maxAttempts: 8, on: tx)
                let ms = elapsed(since: t0) * 1000
                without.update { $0.append(ms) }
            }
            throw Rollback()
        }
        _ = try await store.drop(group: group)
        try await pool.query("DELETE FROM auth.events WHERE type = $1", type)
        let claimWith = percentile(with.sorted(), 0.5), claimWithout = percentile(without.current.sorted(), 0.5)
        var rows = [
            BenchRow(
                name: "claim of 100 with 200,000 pending", value: "\(BenchTable.f(claimWith, 2)) ms",
                note: "p50 of 20; without the claim index (same data, same run): \(BenchTable.f(claimWithout, 1)) ms, × \(BenchTable.f(claimWithout / max(claimWith, 0.001), 0)) slower"),
        ]
        rows.append(try await catchUp(pool: pool, suffix: String(suffix)))
        return rows
    }

    /// 100,000 committed events, then a new group (from the oldest) drained by one worker.
    private func catchUp(pool: PGPool, suffix: String) async throws -> BenchRow {
        let type = "bench.catchup.\(suffix)", group = "bench-catchup-\(suffix)"
        try await pool.query("INSERT INTO auth.events (id, type) SELECT gen_random_uuid(), $1 FROM generate_series(1, 100000)", type)
        let listener = try PGListener(conninfo: conninfo)
        listener.start()
        let handled = Shared(0)
        let consumer = EventConsumer(
            group: group, pool: pool, listener: listener, options: .init(subscriptions: [type], start: .oldest, pollInterval: .milliseconds(200))
        ) { _ in handled.update { $0 += 1 } }
        let t0 = ContinuousClock.now
        var seconds = Double.nan
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await consumer.run() }
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                let done = try await pool.query(
                    "SELECT count(*)::int8 AS n FROM auth.event_deliveries WHERE group_name = $1 AND status = 'done'", group
                ).first?.decode("n", as: Int.self) ?? 0
                if done >= 100_000 { seconds = elapsed(since: t0); break }
                try await Task.sleep(for: .milliseconds(200))
            }
            tasks.cancelAll()
        }
        await listener.shutdown()
        _ = try await ConsumerGroupStore(pool: pool).drop(group: group)
        try await pool.query("DELETE FROM auth.events WHERE type = $1", type)
        return BenchRow(
            name: "catch-up: 100,000 events, one worker (no-op handler)", value: "\(BenchTable.f(seconds, 1)) s",
            note: "\(BenchTable.f(100_000 / seconds, 0)) events/s, advance + claim + done included; \(handled.current) handled")
    }
}
