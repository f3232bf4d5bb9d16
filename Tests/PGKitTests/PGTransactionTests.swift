import Synchronization
import TestSupport
import Testing
@testable import PGKit

/// `withTransaction`: commit, rollback, the COMMIT-answers-ROLLBACK trap, afterCommit.
@Suite struct PGTransactionTests {
    static let db = SuiteDatabase()

    /// A table of this test's own in the suite database.
    func table(_ pool: PGPool) async throws -> String {
        let name = "tx_" + TestDatabase.uniqueSlug("x").replacingOccurrences(of: "-", with: "_")
        try await pool.query("CREATE TABLE \(name) (id int PRIMARY KEY)")
        return name
    }

    func count(_ pool: PGPool, _ table: String) async throws -> Int {
        try #require(try await pool.query("SELECT count(*)::int8 AS n FROM \(table)").first).decode("n")
    }

    @Test func commitKeepsWritesAndRunsAfterCommit() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let t = try await table(pool)
            let ran = Mutex<[String]>([])
            let value = try await pool.withTransaction { tx in
                try await tx.query("INSERT INTO \(t) VALUES (1)")
                tx.afterCommit { ran.withLock { $0.append("first") } }
                tx.afterCommit { ran.withLock { $0.append("second") } }
                // Nothing has run yet: we are still inside the transaction.
                #expect(ran.withLock { $0 }.isEmpty)
                return 42
            }
            #expect(value == 42)
            #expect(ran.withLock { $0 } == ["first", "second"])
            #expect(try await count(pool, t) == 1)
        }
    }

    @Test func throwRollsBackAndDropsAfterCommit() async throws {
        struct HookFailed: Error {}
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let t = try await table(pool)
            let ran = Mutex(false)
            await #expect(throws: HookFailed.self) {
                try await pool.withTransaction { tx in
                    try await tx.query("INSERT INTO \(t) VALUES (1)")
                    tx.afterCommit { ran.withLock { $0 = true } }
                    throw HookFailed()
                }
            }
            #expect(try await count(pool, t) == 0)
            #expect(ran.withLock { $0 } == false)
        }
    }

    @Test func commitAnsweringRollbackIsDetected() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let t = try await table(pool)
            let ran = Mutex(false)
            do {
                try await pool.withTransaction { tx in
                    try await tx.query("INSERT INTO \(t) VALUES (1)")
                    tx.afterCommit { ran.withLock { $0 = true } }
                    // A swallowed error aborts the transaction; the body still "succeeds".
                    _ = try? await tx.query("INSERT INTO \(t) VALUES (1)")
                }
                Issue.record("COMMIT answering ROLLBACK must throw")
            } catch let error as PGError {
                #expect(error.kind == .commitRolledBack)
            }
            #expect(try await count(pool, t) == 0)
            #expect(ran.withLock { $0 } == false)
            // The connection is clean again for the next user.
            #expect(try await count(pool, t) == 0)
        }
    }

    @Test func handleIsUnusableAfterItsClosure() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let escaped = try await pool.withTransaction { tx in tx }
            await #expect(throws: PGError.self) { try await escaped.query("SELECT 1") }
            // The pool is unaffected.
            #expect(try await pool.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
        }
    }

    @Test func isolationLevelIsApplied() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let level = try await pool.withTransaction(isolation: .serializable) { tx in
                try #require(try await tx.query("SHOW transaction_isolation").first).decode("transaction_isolation", as: String.self)
            }
            #expect(level == "serializable")
            let defaultLevel = try await pool.withTransaction { tx in
                try #require(try await tx.query("SHOW transaction_isolation").first).decode("transaction_isolation", as: String.self)
            }
            #expect(defaultLevel == "read committed")
        }
    }

    @Test func sqlStateConstraintAndDetailAreReported() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let name = "uq_" + TestDatabase.uniqueSlug("x").replacingOccurrences(of: "-", with: "_")
            try await pool.query("CREATE TABLE \(name) (email text CONSTRAINT \(name)_email_key UNIQUE)")
            try await pool.query("INSERT INTO \(name) VALUES ($1)", "a@example.com")
            do {
                try await pool.query("INSERT INTO \(name) VALUES ($1)", "a@example.com")
                Issue.record("duplicate insert must fail")
            } catch let error as PGError {
                #expect(error.kind == .server)
                #expect(error.sqlState == "23505")
                #expect(error.constraint == "\(name)_email_key")
                #expect(error.isUniqueViolation(constraint: "\(name)_email_key"))
                #expect(error.detail?.contains("already exists") == true)
            }
            do {
                try await pool.query("SELECT 1 / $1::int", 0)
                Issue.record("division by zero must fail")
            } catch let error as PGError {
                #expect(error.sqlState == "22012")
                #expect(error.constraint == nil)
            }
        }
    }
}

/// Handles used outside their closure.
@Suite struct PGHandleMisuseTests {
    static let db = SuiteDatabase()

    @Test func transactionHandleOnAHeldLeaseIsClosedAfterItsClosure() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            try await pool.withConnection { lease in
                let escaped = try await lease.withTransaction { tx in tx }
                await #expect(throws: PGError.self) { try await escaped.query("SELECT 1") }
                #expect(try await lease.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
            }
        }
    }
}
