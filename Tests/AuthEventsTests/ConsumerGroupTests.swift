import AuthCore
import AuthCrypto
import AuthEvents
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit
import Synchronization
import TestSupport
import ServiceLifecycle
import Testing

/// Delivery semantics of consumer groups against a real database (DESIGN.md §5). Each test uses
/// an event type of its own, so tests sharing the suite's outbox never see each other's events.
@Suite struct ConsumerGroupTests {
    static let db = SuiteDatabase()

    func type() -> String { "test.\(UUID().uuidString.prefix(8).lowercased())" }
    func group() -> String { "g-\(UUID().uuidString.prefix(8).lowercased())" }

    /// A fresh group on a fresh event type, `count` events committed and advanced into it.
    func advancedGroup(_ pool: PGPool, count: Int = 1) async throws -> (store: ConsumerGroupStore, group: String, ids: [UUID]) {
        let store = ConsumerGroupStore(pool: pool)
        let t = type()
        let g = group()
        try await store.ensure(group: g, subscriptions: [t], start: .now)
        let ids = try await append(pool, t, count: count)
        try await store.advance(group: g)
        return (store, g, ids)
    }

    func append(_ pool: PGPool, _ type: String, count: Int = 1) async throws -> [UUID] {
        try await pool.withTransaction { tx in
            let events = (0..<count).map { _ in AuthEvent(AuthEvent.Name(rawValue: type), tenantID: nil) }
            try await EventOutbox().append(events, in: tx)
            return events.map(\.id)
        }
    }

    /// A dump restored into a new cluster: transaction ids start lower than the groups' stored
    /// snapshots. Before, the next advance stored the lower snapshot and every event written
    /// since the restore was skipped for good; now the group is marked and stops taking events
    /// (nothing is lost meanwhile) — also once ids pass the old ones — while the deliveries it
    /// already has are still handed out and recorded, and `reset-snapshots` re-bases it so the
    /// events written since are all delivered.
    @Test func advanceRefusesWhenTransactionIdsWentBackwardsAndResetRebases() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let (store, g, before) = try await advancedGroup(pool, count: 2)
            let t = try #require(try await pool.query("SELECT subscriptions[1] AS t FROM auth.consumer_groups WHERE name = $1", g).first)
                .decode("t", as: String.self)
            let held = try await store.claim(group: g, owner: "w", limit: 1, lease: .seconds(30))
            #expect(held.count == 1)
            // What the restored database looks like to the group: a snapshot ahead of today's
            // transaction ids, taken a minute ago.
            try await pool.query(
                """
                UPDATE auth.consumer_groups
                SET last_snapshot = format('%s:%s:', x, x)::pg_snapshot, last_advanced_at = now() - interval '1 minute'
                FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::int8 + 1000000 AS x) ahead WHERE name = $1
                """, g)
            let stored = try await pool.query("SELECT last_snapshot::text AS s FROM auth.consumer_groups WHERE name = $1", g).first?
                .decode("s", as: String.self)
            let after = try await append(pool, t, count: 3)
            do {
                try await store.advance(group: g)
                Issue.record("an advance over transaction ids that went backwards must be refused")
            } catch let error as SnapshotsNeedReset {
                #expect(error.group == g)
                #expect("\(error)".contains("authd events reset-snapshots"))
            }
            let unchanged = try await pool.query("SELECT last_snapshot::text AS s FROM auth.consumer_groups WHERE name = $1", g).first?
                .decode("s", as: String.self)
            #expect(unchanged == stored, "the refused advance stored nothing")
            // A worker's pass still records its results and hands out what the group already has.
            let pass = try await store.completeAdvanceAndClaim(group: g, owner: "w", done: held.map(\.id), limit: 100, lease: .seconds(30))
            #expect(pass.needsReset)
            #expect(pass.completed == 1, "the completion commits with the refused advance")
            #expect(pass.batch.map(\.id) == before.filter { $0 != held[0].id }, "only the delivery made before")
            // The mark sticks once the ids look sane again: ids below it were reused.
            try await pool.query("UPDATE auth.consumer_groups SET last_snapshot = pg_current_snapshot() WHERE name = $1", g)
            await #expect(throws: SnapshotsNeedReset.self) { try await store.advance(group: g) }
            #expect(try await store.status().first { $0.name == g }?.needsReset == true)

            let reset = try await store.resetSnapshots(group: g)
            #expect(reset.count == 1 && reset[0].requeued == 3)
            #expect(try await store.status().first { $0.name == g }?.needsReset == false)
            // The leases of the earlier pass expire; then everything still owed is claimable.
            try await pool.query("UPDATE auth.event_deliveries SET lease_until = now() - interval '1 second' WHERE group_name = $1", g)
            let claimed = try await store.claim(group: g, owner: "w", limit: 100, lease: .seconds(30))
            let ids = Set(claimed.map(\.id))
            #expect(ids.isSuperset(of: after), "every event written since the restore is delivered")
            #expect(claimed.count == 4, "and the one not done before; the done one is not repeated")
            // And the group advances normally again.
            _ = try await append(pool, t, count: 1)
            #expect(try await store.advance(group: g) == 1)
        }
    }

    /// Claims take the oldest due deliveries through the partial index (before: a scan and sort
    /// of the group's whole backlog, ~80 ms for 200 k pending rows, under the group's lock).
    @Test func claimsReadThePendingIndexInOrder() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let (store, g, _) = try await advancedGroup(pool, count: 3)
            // A backlog the planner takes seriously: 5000 pending deliveries, one of them leased.
            try await pool.query(
                """
                WITH e AS (INSERT INTO auth.events (id, type) SELECT gen_random_uuid(), 'test.backlog' FROM generate_series(1, 5000) RETURNING id)
                INSERT INTO auth.event_deliveries (group_name, event_id) SELECT $1, id FROM e
                """, g)
            _ = try await store.claim(group: g, owner: "w", limit: 1, lease: .seconds(30))
            try await pool.query("ANALYZE auth.event_deliveries")
            let plan = try await pool.withTransaction { tx -> String in
                let rows = try await tx.query(
                    """
                    EXPLAIN (FORMAT TEXT)
                    SELECT group_name, event_id FROM auth.event_deliveries
                    WHERE group_name = $1 AND status = 'pending' AND next_attempt_at <= now()
                      AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY created_at, event_id LIMIT 100 FOR UPDATE SKIP LOCKED
                    """, g)
                return try rows.map { try $0.decode(at: 0, as: String.self) }.joined(separator: "\n")
            }
            #expect(plan.contains("event_deliveries_claim_idx"), "\(plan)")
            #expect(!plan.contains("Sort"), "rows come in index order: \(plan)")
            // The poison check before each claim reads only the leased rows (before: every pending
            // row of the group, most of a claim's time with a large backlog).
            let poison = try await pool.withTransaction { tx -> String in
                try await tx.query(
                    """
                    EXPLAIN UPDATE auth.event_deliveries SET status = 'dead'
                    WHERE group_name = $1 AND status = 'pending' AND lease_until < now() AND attempts >= 8
                    """, g
                ).map { try $0.decode(at: 0, as: String.self) }.joined(separator: "\n")
            }
            #expect(poison.contains("event_deliveries_leased_idx"), "\(poison)")
        }
    }

    @Test func committedEventsReachEachGroupOnceAndRolledBackOnesNever() async throws {
        struct Abort: Error {}
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let store = ConsumerGroupStore(pool: pool)
            let t = type()
            let (a, b) = (group(), group())
            for g in [a, b] { try await store.ensure(group: g, subscriptions: [t], start: .now) }
            let ids = try await append(pool, t, count: 3)
            _ = try? await pool.withTransaction { tx in
                try await EventOutbox().append(AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil), in: tx)
                throw Abort()
            }
            for g in [a, b] {
                #expect(try await store.advance(group: g) == 3)
                #expect(try await store.advance(group: g) == 0)  // nothing taken twice
                let claimed = try await store.claim(group: g, owner: "w", limit: 10, lease: .seconds(30))
                #expect(Set(claimed.map(\.id)) == Set(ids))
                for e in claimed { #expect(try await store.complete(group: g, event: e.id, owner: "w")) }
                #expect(try await store.claim(group: g, owner: "w", limit: 10, lease: .seconds(30)).isEmpty)
            }
        }
    }

    @Test func lateCommitIsNotSkippedAndAnOpenTransactionDelaysOnlyItsOwnEvent() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let store = ConsumerGroupStore(pool: pool)
            let t = type()
            let g = group()
            try await store.ensure(group: g, subscriptions: [t], start: .now)
            let early = AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil)
            let (opened, release) = AsyncStream.makeStream(of: Void.self)
            let (committed, finish) = AsyncStream.makeStream(of: Void.self)
            // The early event's transaction starts first (lower txid) and commits last.
            async let slow: Void = pool.withTransaction { tx in
                try await EventOutbox().append(early, in: tx)
                release.yield()
                for await _ in committed { break }
            }
            for await _ in opened { break }
            let late = try await append(pool, t)
            #expect(try await store.advance(group: g) == 1)
            #expect(try await store.claim(group: g, owner: "w", limit: 10, lease: .seconds(30)).map(\.id) == late)
            finish.yield()
            try await slow
            #expect(try await store.advance(group: g) == 1)
            #expect(try await store.claim(group: g, owner: "w", limit: 10, lease: .seconds(30)).map(\.id) == [early.id])
        }
    }

    @Test func twoWorkersNeverHoldTheSameEvent() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let (store, g, ids) = try await advancedGroup(pool, count: 40)
            async let x = store.claim(group: g, owner: "x", limit: 25, lease: .seconds(30))
            async let y = store.claim(group: g, owner: "y", limit: 25, lease: .seconds(30))
            let (cx, cy) = try await (x, y)
            #expect(Set(cx.map(\.id)).isDisjoint(with: cy.map(\.id)))
            #expect(Set(cx.map(\.id)).union(cy.map(\.id)) == Set(ids))
        }
    }

    @Test func aWorkerWhoseLeaseExpiredCannotMarkDone() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let (store, g, ids) = try await advancedGroup(pool)
            #expect(try await store.claim(group: g, owner: "slow", limit: 1, lease: .milliseconds(200)).map(\.id) == ids)
            try await Task.sleep(for: .milliseconds(400))
            let retaken = try await store.claim(group: g, owner: "fast", limit: 1, lease: .seconds(30))
            #expect(retaken.map(\.id) == ids)
            #expect(retaken.first?.attempt == 2)
            #expect(try await !store.complete(group: g, event: ids[0], owner: "slow"))
            #expect(try await !store.renew(group: g, event: ids[0], owner: "slow", lease: .seconds(30)))
            #expect(try await store.complete(group: g, event: ids[0], owner: "fast"))
        }
    }

    @Test func failuresBackOffThenDeadLetterAndRetryRequeues() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let (store, g, ids) = try await advancedGroup(pool)
            let id = ids[0]
            for attempt in 1...3 {
                let claimed = try await store.claim(group: g, owner: "w", limit: 1, lease: .seconds(30))
                #expect(claimed.first?.attempt == attempt)
                #expect(try await store.fail(group: g, event: id, owner: "w", error: "boom", backoff: .zero, maxAttempts: 3))
            }
            #expect(try await store.claim(group: g, owner: "w", limit: 1, lease: .seconds(30)).isEmpty)  // dead
            let dead = try await pool.query("SELECT status, last_error FROM auth.event_deliveries WHERE group_name = $1", g)
            #expect(try dead.first?.decode("status", as: String.self) == "dead")
            #expect(try await store.retry(group: g, event: id))
            #expect(try await store.claim(group: g, owner: "w", limit: 1, lease: .seconds(30)).map(\.id) == [id])
        }
    }

    @Test func batchCompletionCountsOnlyHeldLeases() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let (store, g, ids) = try await advancedGroup(pool, count: 2)
            _ = try await store.claim(group: g, owner: "w", limit: 2, lease: .seconds(30))
            // One of the two leases runs out and another worker takes that event.
            try await pool.query("UPDATE auth.event_deliveries SET lease_until = now() - interval '1 second' WHERE event_id = $1", ids[0])
            #expect(try await store.claim(group: g, owner: "other", limit: 1, lease: .seconds(30)).map(\.id) == [ids[0]])
            #expect(try await store.renewAll(group: g, events: ids, owner: "w", lease: .seconds(30)) == 1)
            #expect(try await store.completeAll(group: g, events: ids, owner: "w") == 1)
            #expect(try await store.complete(group: g, event: ids[0], owner: "other"))
        }
    }

    @Test func anEventWhoseWorkersKeepDyingIsDeadLettered() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let (store, g, ids) = try await advancedGroup(pool)
            let id = ids[0]
            for _ in 0..<2 {
                // Claimed, then the worker "dies": the lease simply runs out.
                #expect(try await store.claim(group: g, owner: "crashy", limit: 1, lease: .milliseconds(100), maxAttempts: 2).map(\.id) == [id])
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await store.claim(group: g, owner: "next", limit: 1, lease: .seconds(30), maxAttempts: 2).isEmpty)
            let row = try #require(try await pool.query(
                "SELECT status, last_error FROM auth.event_deliveries WHERE group_name = $1", g).first)
            #expect(try row.decode("status", as: String.self) == "dead")
            #expect(try row.decode("last_error", as: String.self).contains("lease expired"))
        }
    }

    @Test func prefixSubscriptionsAndStartFromOldest() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let store = ConsumerGroupStore(pool: pool)
            let prefix = type()
            let before = try await append(pool, prefix + ".created")
            let g = group()
            try await store.ensure(group: g, subscriptions: [prefix + ".*"], start: .oldest)
            let after = try await append(pool, prefix + ".deleted")
            _ = try await append(pool, type())  // not subscribed
            #expect(try await store.advance(group: g) == 2)
            let ids = try await store.claim(group: g, owner: "w", limit: 10, lease: .seconds(30)).map(\.id)
            #expect(Set(ids) == Set(before + after))
        }
    }
}

struct HandlerFailed: Error {}

/// The consumer library end to end: NOTIFY wake-ups, handlers, retries.
@Suite struct EventConsumerTests {
    static let db = SuiteDatabase()

    @Test func consumerServiceDeliversCommittedEventsWokenByNotify() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let t = "test.\(UUID().uuidString.prefix(8).lowercased())"
            let listener = try PGListener(conninfo: db.conninfo)
            listener.start()
            let seen = Mutex<[UUID]>([])
            let failedOnce = Mutex(false)
            let consumer = EventConsumer(
                group: "c-\(UUID().uuidString.prefix(8).lowercased())", pool: pool, listener: listener,
                options: .init(subscriptions: [t], pollInterval: .seconds(120), baseBackoff: .zero)
            ) { event in
                // The first delivery of the first event fails: it must come back.
                let fail = failedOnce.withLock { f -> Bool in
                    defer { f = true }
                    return !f
                }
                if fail { throw HandlerFailed() }
                seen.withLock { $0.append(event.id) }
            }
            let notifier = EventNotifier(db: AuthDatabase(pool: pool))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                group.addTask { try await notifier.run() }
                // Let the consumer create its group (it starts from "now") and LISTEN before events
                // are written: a fixed sleep was too short on a loaded machine.
                let registered = try await eventually {
                    !(try await pool.query("SELECT 1 FROM auth.consumer_groups WHERE name = $1", consumer.group)).isEmpty
                }
                #expect(registered)
                try await Task.sleep(for: .milliseconds(300))
                let ids = try await pool.withTransaction { tx in
                    let events = (0..<5).map { _ in AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil) }
                    try await EventOutbox(notifier: notifier).append(events, in: tx)
                    return events.map(\.id)
                }
                // The poll interval is 120 s: only the NOTIFY (and the retry timer) can deliver
                // this quickly. The wait is long because a CI machine running every suite at once
                // once took more than 10 s here; on failure the group's deliveries are printed.
                let all = try await eventually(timeout: .seconds(45)) { Set(seen.withLock { $0 }) == Set(ids) }
                if !all {
                    let rows = try await pool.query(
                        """
                        SELECT concat_ws(' ', event_id, status, attempts, next_attempt_at - now(), lease_until - now(), last_error) AS d
                        FROM auth.event_deliveries WHERE group_name = $1
                        """, consumer.group)
                    Issue.record("deliveries: \(try rows.map { try $0.decode("d", as: String.self) })")
                }
                #expect(all)
                #expect(seen.withLock { $0 }.count == 5)  // each once, the failed one retried
                group.cancelAll()
            }
            await listener.shutdown()
        }
    }
}

extension EventConsumerTests {
    /// SIGTERM (graceful shutdown) mid-handler: the handler finishes and its delivery is done;
    /// the rest of the claimed batch is given back unattempted for another worker.
    @Test func gracefulShutdownFinishesTheEventInHandAndGivesBackTheRest() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let t = "test.\(UUID().uuidString.prefix(8).lowercased())"
            let name = "g-\(UUID().uuidString.prefix(8).lowercased())"
            let listener = try PGListener(conninfo: db.conninfo)
            listener.start()
            let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
            let finished = Mutex<[UUID]>([])
            let consumer = EventConsumer(
                group: name, pool: pool, listener: listener, options: .init(subscriptions: [t], start: .oldest, pollInterval: .milliseconds(50))
            ) { event in
                startedSignal.yield()
                // The handler in hand runs until the shutdown has reached its worker (a fixed
                // sleep let a loaded machine start the next event first).
                let deadline = ContinuousClock.now + .seconds(20)
                while !Task.isShuttingDownGracefully, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                finished.withLock { $0.append(event.id) }
            }
            let ids = try await pool.withTransaction { tx in
                let events = (0..<3).map { _ in AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil) }
                try await EventOutbox().append(events, in: tx)
                return events.map(\.id)
            }
            let group = ServiceGroup(configuration: .init(services: [consumer], logger: .init(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var it = started.makeAsyncIterator()
                _ = await it.next()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await listener.shutdown()
            let handled = finished.withLock { $0 }
            #expect(handled.count == 1, "the event in hand finished; no other was started")
            let rows = try await pool.query(
                "SELECT event_id, status, lease_owner, attempts FROM auth.event_deliveries WHERE group_name = $1", name)
            var done = 0, givenBack = 0
            for row in rows {
                let id: UUID = try row.decode("event_id")
                let status: String = try row.decode("status")
                if status == "done" { done += 1; #expect(id == handled.first) }
                if status == "pending", try row.decode("lease_owner", as: String?.self) == nil { givenBack += 1 }
            }
            #expect(done == 1 && givenBack == 2 && rows.count == ids.count)
        }
    }
}

/// Retention and stale groups.
@Suite(.serialized) struct RetentionTests {
    @Test func pruneKeepsWhatAnActiveGroupStillNeedsAndStaleGroupsStopHoldingBack() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let store = ConsumerGroupStore(pool: pool)
            let t = "test.retention"
            try await store.ensure(group: "active", subscriptions: [t], start: .now)
            let ids = try await pool.withTransaction { tx in
                let events = (0..<3).map { _ in AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil) }
                try await EventOutbox().append(events, in: tx)
                return events.map(\.id)
            }
            try await store.advance(group: "active")
            let claimed = try await store.claim(group: "active", owner: "w", limit: 3, lease: .seconds(30))
            _ = try await store.complete(group: "active", event: claimed[0].id, owner: "w")
            _ = try await store.fail(group: "active", event: claimed[1].id, owner: "w", error: "x", backoff: .zero, maxAttempts: 1)
            // claimed[2] stays pending. A group that never advanced holds everything back…
            try await store.ensure(group: "sleepy", subscriptions: [t], start: .oldest)
            try await pool.query("UPDATE auth.events SET occurred_at = now() - interval '2 days' WHERE type = $1", t)
            #expect(try await store.prune(retention: .seconds(3600), staleAfter: .seconds(3600)).deleted == 0)
            // …until it is stale.
            try await pool.query("UPDATE auth.consumer_groups SET last_seen_at = now() - interval '2 days' WHERE name = 'sleepy'")
            let (stale, deleted) = try await store.prune(retention: .seconds(3600), staleAfter: .seconds(3600))
            #expect(stale == 1)
            #expect(deleted == 1)  // only the finished one; dead and pending stay
            let left = try await pool.query("SELECT id FROM auth.events WHERE type = $1", t).map { try $0.decode("id", as: UUID.self) }
            #expect(Set(left) == Set([claimed[1].id, claimed[2].id]))
            #expect(Set(ids).isSuperset(of: left))
            #expect(try await store.drop(group: "sleepy"))
        }
    }

    /// While a group needs `reset-snapshots`, its stored snapshot no longer says what it took:
    /// retention deletes nothing and only expired secrets are purged, or the reset would find
    /// events (and codes) gone that the group was still owed.
    @Test func aGroupThatNeedsAResetHoldsRetentionAndPurgingBack() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let store = ConsumerGroupStore(pool: pool)
            let sealer = SecretSealer(keyring: try Keyring.ephemeral())
            let t = "test.held"
            try await store.ensure(group: "done-all", subscriptions: [t], start: .now)
            try await store.ensure(group: "restored", subscriptions: ["other.type"], start: .now)
            var event = AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil)
            event.secret = .init("493817", expiresAt: Date().addingTimeInterval(600))
            try await pool.withTransaction { tx in try await EventOutbox(sealer: sealer).append(event, in: tx) }
            try await store.advance(group: "done-all")
            try await store.advance(group: "restored")
            let claimed = try await store.claim(group: "done-all", owner: "w", limit: 10, lease: .seconds(30))
            #expect(try await store.complete(group: "done-all", event: claimed[0].id, owner: "w"))
            try await pool.query("UPDATE auth.events SET occurred_at = now() - interval '2 days' WHERE type = $1", t)
            try await pool.query("UPDATE auth.consumer_groups SET needs_reset = true WHERE name = 'restored'")

            #expect(try await EventStore().purgeSecrets(on: pool) == 0)
            #expect(try await store.prune(retention: .seconds(3600), staleAfter: .seconds(3600)).deleted == 0)
            _ = try await store.resetSnapshots(group: "restored")
            #expect(try await EventStore().purgeSecrets(on: pool) == 1)
            #expect(try await store.prune(retention: .seconds(3600), staleAfter: .seconds(3600)).deleted == 1)
        }
    }
}

extension EventConsumerTests {
    /// Cancellation (the shutdown deadline) interrupts a handler: its event and the rest of the
    /// batch go back with their attempts uncounted. Before, the give-back ran through a thread
    /// pool that skips a cancelled task's work: leases stayed held and attempts counted, so a
    /// few interrupted shutdowns dead-lettered an event whose handler never failed.
    @Test func cancelledHandlerGivesItsBatchBackUncounted() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let t = "test.\(UUID().uuidString.prefix(8).lowercased())"
            let name = "g-\(UUID().uuidString.prefix(8).lowercased())"
            let listener = try PGListener(conninfo: db.conninfo)
            listener.start()
            let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
            let consumer = EventConsumer(
                group: name, pool: pool, listener: listener, options: .init(subscriptions: [t], start: .oldest, pollInterval: .milliseconds(50))
            ) { _ in
                startedSignal.yield()
                try await Task.sleep(for: .seconds(60))  // until cancelled
            }
            try await pool.withTransaction { tx in
                try await EventOutbox().append((0..<3).map { _ in AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil) }, in: tx)
            }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await consumer.run() }
                var it = started.makeAsyncIterator()
                _ = await it.next()
                tasks.cancelAll()
                try? await tasks.waitForAll()
            }
            await listener.shutdown()
            let rows = try await pool.query(
                "SELECT status, lease_owner, attempts FROM auth.event_deliveries WHERE group_name = $1", name)
            #expect(rows.count == 3)
            for row in rows {
                #expect(try row.decode("status", as: String.self) == "pending")
                #expect(try row.decode("lease_owner", as: String?.self) == nil, "given back")
                #expect(try row.decode("attempts", as: Int.self) == 0, "an interrupted attempt does not count")
            }
        }
    }
}
