import Synchronization
import TestSupport
import Testing
@testable import PGKit

/// What PGKit refuses or guarantees whatever the caller does: no NUL truncation, cleanup that
/// survives cancellation, a dead connection replaced before its first statement, schema-scoped
/// autocommit statements.
@Suite struct PGSafetyTests {
    static let db = SuiteDatabase()

    /// A table of this test's own in the suite database.
    func table(_ pool: PGPool) async throws -> String {
        let name = "s_" + TestDatabase.uniqueSlug("x").replacingOccurrences(of: "-", with: "_")
        try await pool.query("CREATE TABLE \(name) (v text)")
        return name
    }

    func pid(_ db: some PGQueryable) async throws -> Int32 {
        try #require(try await db.query("SELECT pg_backend_pid() AS pid").first).decode("pid")
    }

    /// libpq text parameters are C strings: "a\0b" would arrive as "a". PGKit refuses it.
    @Test func nulInAParameterIsRefusedNotTruncated() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let t = try await table(pool)
            do {
                try await pool.query("INSERT INTO \(t) VALUES ($1)", "a\u{0}b@example.com")
                Issue.record("a NUL in a parameter must be refused")
            } catch let error as PGError {
                #expect(error.kind == .invalidParameter)
                #expect(error.message.contains("$1"))
            }
            let rows = try await pool.query("SELECT count(*)::int8 AS n FROM \(t)")
            #expect(try rows.first?.decode("n", as: Int.self) == 0)
            // The connection is fine afterwards: nothing was sent.
            #expect(try await pool.query("SELECT $1::text AS v", "ok").first?.decode("v", as: String.self) == "ok")
        }
    }

    /// NIOThreadPool's runIfActive skipped the work of a cancelled task: ROLLBACK was never sent
    /// and the connection, still in its transaction, was thrown away. Now it is rolled back
    /// and kept.
    @Test func rollbackIsSentForACancelledTask() async throws {
        struct Abort: Error {}
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let t = try await table(pool)
            let before = try await pid(pool)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try? await pool.withTransaction { tx in
                        try await tx.query("INSERT INTO \(t) VALUES ('rolled back')")
                        withUnsafeCurrentTask { $0?.cancel() }
                        throw Abort()
                    }
                }
            }
            #expect(try await pid(pool) == before, "the connection was rolled back and reused, not dropped")
            let rows = try await pool.query("SELECT count(*)::int8 AS n FROM \(t)")
            #expect(try rows.first?.decode("n", as: Int.self) == 0)
        }
    }

    /// A session-level advisory lock taken on a pooled connection is released even when the
    /// task was cancelled (before: the unlock was skipped and the idle connection kept the lock).
    @Test func advisoryUnlockRunsForACancelledTask() async throws {
        struct Abort: Error {}
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try? await pool.withConnection { lease in
                        try await PGMigrator.withMigrationLock(on: lease) {
                            withUnsafeCurrentTask { $0?.cancel() }
                            throw Abort()
                        }
                    }
                }
            }
            try await db.withPool(size: 1) { other in
                let free = try await other.query("SELECT pg_try_advisory_lock($1) AS ok", PGMigrator.lockKey)
                #expect(try free.first?.decode("ok", as: Bool.self) == true)
                try await other.query("SELECT pg_advisory_unlock($1)", PGMigrator.lockKey)
            }
        }
    }

    /// Cleanup that needs a connection waits for one even from a cancelled task.
    @Test func cleanupAcquiresEvenWhenCancelled() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let t = try await table(pool)
            let held = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await pool.withConnection { _ in
                        await held.wait()
                    }
                }
                _ = try await eventually { held.isWaiting }
                let outcome = await withTaskGroup(of: (Bool, Bool).self) { inner in
                    inner.addTask {
                        withUnsafeCurrentTask { $0?.cancel() }
                        let honoured = (try? await pool.query("INSERT INTO \(t) VALUES ('plain')")) != nil
                        async let cleanup: Bool = (try? await pool.queryIgnoringCancellation("INSERT INTO \(t) VALUES ('cleanup')", [])) != nil
                        try? await Task.sleep(for: .milliseconds(100))
                        held.open()
                        return (honoured, await cleanup)
                    }
                    return await inner.next()!
                }
                #expect(outcome.0 == false, "a cancelled task does not wait for a connection")
                #expect(outcome.1 == true, "cleanup does")
                try await group.waitForAll()
            }
            let rows = try await pool.query("SELECT v FROM \(t)")
            #expect(try rows.map { try $0.decode("v", as: String.self) } == ["cleanup"])
        }
    }

    /// A connection whose backend died after it was handed out: the lease's first statement never
    /// ran, so it is sent again on a fresh connection instead of failing.
    @Test func deadConnectionIsReplacedForTheFirstStatement() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            _ = try await pid(pool)  // open the connection
            try await pool.withConnection { lease in
                let old = lease.backendPID
                try await terminate(old, db)
                let now = try await pid(lease)
                #expect(now != old)
            }
        }
    }

    /// After the lease ran something, a dead connection is an error (503 for clients), never a
    /// silent resend: the earlier statement may have been part of a transaction now lost.
    @Test func laterStatementsAreNotResent() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            try await pool.withConnection { lease in
                let old = try await pid(lease)
                try await terminate(old, db)
                do {
                    _ = try await pid(lease)
                    Issue.record("a statement after the connection died must fail")
                } catch let error as PGError {
                    #expect(error.isUnavailable)
                }
            }
            // The pool replaced the broken connection for the next user.
            _ = try await pid(pool)
        }
    }

    func terminate(_ pid: Int32, _ db: TestDatabase) async throws {
        try await db.withPool(size: 1) { admin in
            try await admin.query("SELECT pg_terminate_backend($1)", pid)
            let gone = try await eventually {
                try await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).isEmpty
            }
            #expect(gone)
        }
    }

    /// One round trip per statement, search path local to it, text prepared across schemas.
    @Test func schemaScopedAutocommitStatements() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let a = "sa_" + TestDatabase.uniqueSlug("s").replacingOccurrences(of: "-", with: "_")
            let b = "sb_" + TestDatabase.uniqueSlug("s").replacingOccurrences(of: "-", with: "_")
            for (schema, value) in [(a, "in a"), (b, "in b")] {
                try await pool.query("CREATE SCHEMA \(schema)")
                try await pool.query("CREATE TABLE \(schema).t (v text)")
                try await pool.query("INSERT INTO \(schema).t VALUES ($1)", value)
            }
            for _ in 0..<3 {  // the third run executes the statement prepared on the second
                #expect(try await pool.schema(a).query("SELECT v FROM t").first?.decode("v", as: String.self) == "in a")
                #expect(try await pool.schema(b).query("SELECT v FROM t").first?.decode("v", as: String.self) == "in b")
            }
            // Autocommit: the write is visible at once; the path did not stay on the connection.
            try await pool.schema(a).query("INSERT INTO t VALUES ($1)", "second")
            #expect(try await pool.query("SELECT count(*)::int8 AS n FROM \(a).t").first?.decode("n", as: Int.self) == 2)
            let path = try await pool.query("SHOW search_path").first?.decode("search_path", as: String.self)
            #expect(path?.contains("sa_") == false)
            // An error is reported with its SQLSTATE and leaves the connection usable.
            await #expect(throws: PGError.self) { try await pool.schema(a).query("SELECT nope FROM t") }
            #expect(try await pool.schema(b).query("SELECT v FROM t").first?.decode("v", as: String.self) == "in b")
            // A NUL is refused here too.
            await #expect(throws: PGError.self) { try await pool.schema(a).query("SELECT $1::text", "x\u{0}") }
        }
    }
}

/// One task waits until another opens it.
final class Gate: Sendable {
    private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)
    func wait() async { await withCheckedContinuation { c in waiter.withLock { $0 = c } } }
    var isWaiting: Bool { waiter.withLock { $0 != nil } }
    func open() { waiter.withLock { $0?.resume(); $0 = nil } }
}
