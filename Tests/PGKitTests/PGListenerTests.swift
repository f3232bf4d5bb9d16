import TestSupport
import Testing
@testable import PGKit

/// LISTEN on its own thread: delivery after COMMIT, fan-out, reconnect, overflow, shutdown.
@Suite struct PGListenerTests {
    static let db = SuiteDatabase()

    func channel() -> String { "ch_" + TestDatabase.uniqueSlug("l").replacingOccurrences(of: "-", with: "_") }

    /// The next event, or nil after `timeout`.
    func next(_ sub: PGSubscription, timeout: Duration = .seconds(10)) async -> PGListenerEvent? {
        await withTaskGroup(of: PGListenerEvent?.self) { group in
            group.addTask {
                var it = sub.makeAsyncIterator()
                return await it.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func notificationArrivesOnlyAfterCommitAndReachesEverySubscriber() async throws {
        let db = try await Self.db.get()
        let listener = try PGListener(conninfo: db.conninfo)
        listener.start()
        let ch = channel()
        let a = listener.subscribe(to: [ch])
        let b = listener.subscribe(to: [ch])
        #expect(await next(a) == .resync(.subscribed))
        #expect(await next(b) == .resync(.subscribed))
        try await db.withPool(size: 1) { pool in
            try await pool.withTransaction { tx in
                try await tx.query("SELECT pg_notify($1, $2)", ch, "hello")
                // Still inside the transaction: nothing may be delivered.
                #expect(await next(a, timeout: .milliseconds(300)) == nil)
            }
        }
        guard case .notification(let c1, let p1, _) = await next(a) else {
            Issue.record("subscriber a got no notification")
            await listener.shutdown()
            return
        }
        #expect(c1 == ch && p1 == "hello")
        guard case .notification(_, let p2, _) = await next(b) else {
            Issue.record("subscriber b got no notification")
            await listener.shutdown()
            return
        }
        #expect(p2 == "hello")
        await listener.shutdown()
    }

    @Test func rolledBackNotifyIsNeverDelivered() async throws {
        struct Abort: Error {}
        let db = try await Self.db.get()
        let listener = try PGListener(conninfo: db.conninfo)
        listener.start()
        let ch = channel()
        let sub = listener.subscribe(to: [ch])
        #expect(await next(sub) == .resync(.subscribed))
        try await db.withPool(size: 1) { pool in
            _ = try? await pool.withTransaction { tx in
                try await tx.query("SELECT pg_notify($1, 'lost')", ch)
                throw Abort()
            }
            try await pool.query("SELECT pg_notify($1, 'kept')", ch)
        }
        guard case .notification(_, let payload, _) = await next(sub) else {
            Issue.record("expected the committed notification")
            await listener.shutdown()
            return
        }
        #expect(payload == "kept")
        await listener.shutdown()
    }

    @Test func terminatedListenBackendReconnectsAndSignalsResync() async throws {
        let db = try await Self.db.get()
        let listener = try PGListener(conninfo: db.conninfo, backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(200)))
        listener.start()
        let ch = channel()
        let sub = listener.subscribe(to: [ch])
        #expect(await next(sub) == .resync(.subscribed))
        try await db.withPool(size: 1) { pool in
            try await pool.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE $1 AND pid <> pg_backend_pid()",
                "LISTEN \"\(ch)\"%")
            #expect(await next(sub) == .resync(.reconnected))
            #expect(listener.connectionCount == 2)
            // LISTEN was re-issued: new notifications arrive again.
            try await pool.query("SELECT pg_notify($1, 'after')", ch)
        }
        guard case .notification(_, let payload, _) = await next(sub) else {
            Issue.record("no notification after reconnect")
            await listener.shutdown()
            return
        }
        #expect(payload == "after")
        await listener.shutdown()
    }

    @Test func slowSubscriberGetsOverflowResyncInsteadOfSilentLoss() async throws {
        let db = try await Self.db.get()
        let listener = try PGListener(conninfo: db.conninfo)
        listener.start()
        let ch = channel()
        let sub = listener.subscribe(to: [ch], bufferSize: 4)
        #expect(await next(sub) == .resync(.subscribed))
        try await db.withPool(size: 1) { pool in
            for i in 0..<20 { try await pool.query("SELECT pg_notify($1, $2)", ch, String(i)) }
            // Nobody read: the buffer of 4 overflowed. What was dropped is announced, not lost silently.
            var sawOverflow = false
            while let event = await next(sub, timeout: .seconds(1)) {
                if event == .resync(.overflow) { sawOverflow = true }
            }
            #expect(sawOverflow)
            // Having caught up, the subscriber receives new notifications again.
            try await pool.query("SELECT pg_notify($1, 'after')", ch)
            guard case .notification(_, let payload, _) = await next(sub) else {
                Issue.record("no notification after the overflow")
                return
            }
            #expect(payload == "after")
        }
        await listener.shutdown()
    }

    @Test func shutdownReturnsPromptlyAndEndsSubscriptions() async throws {
        let db = try await Self.db.get()
        let listener = try PGListener(conninfo: db.conninfo)
        listener.start()
        let sub = listener.subscribe(to: [channel()])
        #expect(await next(sub) == .resync(.subscribed))
        // The thread sits in poll(2) with a 30 s timeout; the wake-up pipe must cut that short.
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await listener.shutdown()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(finished)
        var it = sub.makeAsyncIterator()
        #expect(await it.next() == nil)
    }
}
