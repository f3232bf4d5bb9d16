#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import TestSupport
import Testing
@testable import PGKit

/// Prepared statements: which statements get prepared, and that a prepared statement stays
/// correct when the search path or a table changes under it (real server).
@Suite struct PGStatementCacheTests {
    static let db = SuiteDatabase()

    @Test func preparesOnTheSecondRunAndMakesRoomOnlyForAClearlyHotterNewcomer() {
        // Every plan and every confirmation is one tick of the cache's clock (commented below).
        var cache = PGStatementCache(capacity: 2, idleBeforeEviction: 100)
        let a = PGStatementCache.key("SELECT $1", [25])
        #expect(cache.plan(a) == .unnamed)  // 1
        guard case .prepare(let nameA, let none) = cache.plan(a) else {  // 2
            Issue.record("second run should prepare")
            return
        }
        #expect(none.isEmpty)
        cache.prepared(a, as: nameA)  // 3
        #expect(cache.plan(a) == .execute(nameA))  // 4
        // Other parameter types make another statement.
        #expect(PGStatementCache.key("SELECT $1", [20]) != a)
        let b = "SELECT 2", c = "SELECT 3", d = "SELECT 4"
        _ = cache.plan(b)  // 5
        guard case .prepare(let nameB, _) = cache.plan(b) else {  // 6
            Issue.record("second run should prepare")
            return
        }
        cache.prepared(b, as: nameB)  // 7
        #expect(cache.plan(b) == .execute(nameB))  // 8: b last ran at 8
        #expect(cache.plan(a) == .execute(nameA))  // 9: b is the least recently used
        _ = cache.plan(c)  // 10
        #expect(cache.plan(a) == .execute(nameA))  // 11
        #expect(cache.plan(a) == .execute(nameA))  // 12
        // Full. c ran again 3 ticks after its first run, b has sat unused for 5: not clearly
        // hotter (statements taking turns stay put), so c runs unnamed.
        #expect(cache.plan(c, idle: true) == .unnamed)  // 13
        // Again 1 tick later, inside a transaction: clearly hotter now (b unused for 6 ticks,
        // more than twice 1). c is prepared; b waits, never run again, for a deallocation
        // outside the transaction.
        guard case .prepare(let nameC, let nothingNow) = cache.plan(c, idle: false) else {  // 14
            Issue.record("a clearly hotter newcomer gets in, in a transaction too")
            return
        }
        #expect(nothingNow.isEmpty && cache.hasStale)
        cache.prepared(c, as: nameC)  // 15
        #expect(cache.count == 2)
        #expect(cache.plan(b) == .unnamed)  // 16: b is gone
        // A statement whose result type changed is dropped on the server at the next chance too.
        cache.forget(c, exists: true)
        #expect(cache.count == 1)
        _ = cache.plan(d)
        if case .prepare(_, let dropped) = cache.plan(d, idle: true) { #expect(dropped == [nameB, nameC]) } else { Issue.record("should prepare") }
        #expect(!cache.hasStale)
        var off = PGStatementCache(capacity: 0)
        #expect(off.plan(a) == .unnamed && off.plan(a) == .unnamed)
    }

    /// However rarely a newcomer comes back, a statement unused for `idleBeforeEviction` ticks
    /// gives it room.
    @Test func aStatementUnusedLongEnoughGivesWayToAnyNewcomer() {
        func run(idleBeforeEviction: UInt64) -> Bool {
            var cache = PGStatementCache(capacity: 2, idleBeforeEviction: idleBeforeEviction)
            for key in ["a", "b"] {  // 1–3 (a last used at 3), 4–6
                _ = cache.plan(key)
                if case .prepare(let name, _) = cache.plan(key) { cache.prepared(key, as: name) }
            }
            _ = cache.plan("x")  // 7
            for i in 0..<5 { _ = cache.plan("one-off \(i)") }  // 8…12
            _ = cache.plan("b")  // 13
            // x comes back 7 ticks later; a has sat unused for 11: not twice as long.
            if case .prepare = cache.plan("x") { return true }  // 14
            return false
        }
        #expect(run(idleBeforeEviction: 8))
        #expect(!run(idleBeforeEviction: 100))
    }

    /// Many tenants' statements on one connection: more in use than room, taking turns. The old
    /// policy (LRU, on a second sighting) evicted statements shortly before their next run (30
    /// of the 40 runs checked below found their plan, with 14 evictions); the cache keeps what
    /// it holds.
    @Test func statementsTakingTurnsKeepWhatTheCacheHolds() {
        var cache = PGStatementCache(capacity: 4)
        let keys = (0..<6).map { "SELECT \($0)" }
        var hits = 0, evictions = 0
        for round in 0..<20 {
            for key in keys {
                switch cache.plan(key, eager: true) {
                case .execute: if round >= 10 { hits += 1 }
                case .prepare(let name, let evicting):
                    cache.prepared(key, as: name)
                    if round >= 10 { evictions += evicting.count }
                case .unnamed: break
                }
            }
        }
        #expect(hits == 10 * 4)
        #expect(evictions == 0)

        // The work changes: statements nobody runs any more give way to the new ones.
        let next = (0..<4).map { "SELECT \($0 + 100)" }
        var executed = 0
        for round in 0..<10 {
            for key in next {
                switch cache.plan(key, eager: true) {
                case .execute: if round == 9 { executed += 1 }
                case .prepare(let name, _): cache.prepared(key, as: name)
                case .unnamed: break
                }
            }
        }
        #expect(executed == 4)
    }

    @Test func schemaStatementsArePreparedAtOnceOnlyWhileThereIsRoom() {
        var cache = PGStatementCache(capacity: 2, idleBeforeEviction: 4)
        for key in ["a", "b"] {
            guard case .prepare(let name, let evicting) = cache.plan(key, eager: true) else {
                Issue.record("with room, a schema statement is prepared on its first run")
                return
            }
            #expect(evicting.isEmpty)
            cache.prepared(key, as: name)
        }
        // Full: a first sighting runs unnamed instead of evicting; a second one makes room (the
        // oldest ran 4 ticks ago).
        #expect(cache.plan("c", eager: true) == .unnamed)
        guard case .prepare(_, let evicted) = cache.plan("c", eager: true) else {
            Issue.record("seen twice, it is prepared")
            return
        }
        #expect(evicted.count == 1)
    }

    @Test func aFullCacheDeallocatesWhatItEvicts() async throws {
        let db = try await Self.db.get()
        let conn = try PGConnection(conninfo: db.conninfo, preparedStatements: 2)
        for round in 1...3 {
            for k in 1...3 {
                let row = try #require(try conn.query("SELECT $1::int8 + \(k) AS v", [round.pgBind]).first)
                #expect(try row.decode("v", as: Int.self) == round + k)
            }
        }
        #expect(conn.preparedStatementCount == 2)
        // Other statements only, for longer than a prepared one may sit idle (32 runs here):
        // the first ones give way, and the server holds only the new ones.
        for round in 1...40 {
            for k in 10...11 { _ = try conn.query("SELECT $1::int8 + \(k) AS v", [round.pgBind]) }
        }
        #expect(conn.preparedStatementCount == 2)
        let onServer = try conn.query("SELECT statement FROM pg_prepared_statements ORDER BY statement")
        #expect(try onServer.map { try $0.decode("statement", as: String.self) } == ["SELECT $1::int8 + 10 AS v", "SELECT $1::int8 + 11 AS v"])
    }

    @Test func aPoolCountsHomeLeasesAndWhatItsStatementsDid() async throws {
        let db = try await Self.db.get()
        let pool = PGPool(.init(conninfo: db.conninfo, size: 3))
        for i in 1...3 {
            _ = try await pool.withConnection(affinity: "counted") { try await $0.query("SELECT $1::int8 AS v", [i.pgBind]) }
        }
        var s = pool.statistics.snapshot
        // One connection, a home, served all three: unnamed, then prepared, then found prepared.
        #expect(s.homeHits == 3 && s.homeMisses == 0)
        #expect(s.statementsUnnamed == 1 && s.statementsPrepared == 1 && s.statementsReused == 1)
        // Both homes held: a third lease of the key gets the third connection.
        try await pool.withConnection(affinity: "counted") { _ in
            try await pool.withConnection(affinity: "counted") { _ in
                try await pool.withConnection(affinity: "counted") { _ in }
            }
        }
        s = pool.statistics.snapshot
        #expect(s.homeHits == 5 && s.homeMisses == 1)
        await pool.shutdown()
    }

    /// The counters for the one-round-trip schema statements (a pipeline), and deallocations.
    @Test func aConnectionCountsPipelinesAndDeallocations() async throws {
        let db = try await Self.db.get()
        let statistics = PGPoolStatistics()
        let conn = try PGConnection(conninfo: db.conninfo, preparedStatements: 4, statistics: statistics)
        try Self.makeSchemas(["pc_a"], on: conn)
        for _ in 1...3 { _ = try conn.query("SELECT v FROM t WHERE v <> $1", ["-".pgBind], searchPath: "pc_a") }
        var s = statistics.snapshot
        // The path-setting statement: unnamed, prepared, reused; the schema's: prepared at once
        // (eager), then reused twice.
        #expect(s.statementsUnnamed == 1 && s.statementsPrepared == 2 && s.statementsReused == 3)
        #expect(s.statementsDeallocated == 0)
        // Two more statements, each run twice, fill the cache (4); a third, run again at once,
        // takes the room of the least recently used (idle more than twice that long), which is
        // deallocated on the server.
        for k in 1...2 {
            for _ in 1...2 { _ = try conn.query("SELECT $1::int8 + \(k) AS v", [k.pgBind]) }
        }
        for _ in 1...6 { _ = try conn.query("SELECT $1::int8 + 3 AS v", [3.pgBind]) }
        s = statistics.snapshot
        #expect(s.statementsDeallocated >= 1)
        let onServer = try #require(try conn.query("SELECT count(*)::int8 AS n FROM pg_prepared_statements").first)
        #expect(try onServer.decode("n", as: Int.self) == conn.preparedStatementCount)
    }

    @Test func repeatedStatementsRunPreparedWithTheSameResults() async throws {
        let db = try await Self.db.get()
        let conn = try PGConnection(conninfo: db.conninfo)
        for i in 1...5 {
            let row = try #require(try conn.query("SELECT $1::int8 * 2 AS v", [i.pgBind]).first)
            #expect(try row.decode("v", as: Int.self) == i * 2)
        }
        #expect(conn.preparedStatementCount == 1)
        let off = try PGConnection(conninfo: db.conninfo, preparedStatements: 0)
        for _ in 1...3 { try off.query("SELECT 1") }
        #expect(off.preparedStatementCount == 0)
    }

    @Test func aPreparedStatementFollowsTheSearchPath() async throws {
        let db = try await Self.db.get()
        let conn = try PGConnection(conninfo: db.conninfo)
        try Self.makeSchemas(["sc_a", "sc_b"], on: conn)
        var seen: [String] = []
        for schema in ["sc_a", "sc_b", "sc_a", "sc_b", "sc_a", "sc_b", "sc_a", "sc_b"] {
            try conn.execute("BEGIN; SET LOCAL search_path TO \(schema)")
            seen.append(try conn.query("SELECT v FROM t WHERE v <> $1", ["-".pgBind]).first?.decode("v", as: String.self) ?? "?")
            try conn.execute("COMMIT")
        }
        #expect(seen == ["sc_a", "sc_b", "sc_a", "sc_b", "sc_a", "sc_b", "sc_a", "sc_b"])
        #expect(conn.preparedStatementCount == 1)
    }

    @Test func aTableChangedUnderAPreparedStatementCostsOneError() async throws {
        let db = try await Self.db.get()
        let conn = try PGConnection(conninfo: db.conninfo)
        try conn.execute("DROP TABLE IF EXISTS cache_t; CREATE TABLE cache_t (a int); INSERT INTO cache_t VALUES (1)")
        for _ in 1...3 { _ = try conn.query("SELECT * FROM cache_t WHERE a = $1", [1.pgBind]) }
        #expect(conn.preparedStatementCount == 1)
        try conn.execute("ALTER TABLE cache_t ADD COLUMN b int DEFAULT 7")
        // PostgreSQL refuses to change a prepared statement's result columns: that run fails,
        // the statement is forgotten, and the next runs see the new column.
        #expect(throws: PGError.self) { try conn.query("SELECT * FROM cache_t WHERE a = $1", [1.pgBind]) }
        #expect(conn.preparedStatementCount == 0)
        for _ in 1...3 {
            let row = try #require(try conn.query("SELECT * FROM cache_t WHERE a = $1", [1.pgBind]).first)
            #expect(try row.decode("b", as: Int.self) == 7)
        }
    }

    /// Fresh schemas, each with a table `t` holding one row: the schema's name.
    static func makeSchemas(_ names: [String], on conn: PGConnection) throws {
        for schema in names {
            try conn.execute(
                "DROP SCHEMA IF EXISTS \(schema) CASCADE; CREATE SCHEMA \(schema); CREATE TABLE \(schema).t (v text); INSERT INTO \(schema).t VALUES ('\(schema)')")
        }
    }

    @Test func schemaStatementsArePreparedPerSchemaSoTenantsDoNotReplanEachOther() async throws {
        let db = try await Self.db.get()
        let conn = try PGConnection(conninfo: db.conninfo)
        try Self.makeSchemas(["ps_a", "ps_b"], on: conn)
        var seen: [String] = []
        for _ in 1...4 {
            for schema in ["ps_a", "ps_b"] {
                seen.append(try conn.query("SELECT v FROM t WHERE v <> $1", ["-".pgBind], searchPath: schema).first?.decode("v", as: String.self) ?? "?")
            }
        }
        #expect(seen == Array(repeating: ["ps_a", "ps_b"], count: 4).flatMap { $0 })
        // The same text once per schema, plus the statement setting the path; each schema's
        // statement ran on generic plans only (no custom planning per run).
        let rows = try conn.query(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE 'SELECT v FROM t%'")
        #expect(rows.count == 2)
        for row in rows {
            #expect(try row.decode("custom_plans", as: Int.self) == 0)
            #expect(try row.decode("generic_plans", as: Int.self) >= 2)
        }
        // A transaction with a search path keys its statements the same way.
        let pool = PGPool(.init(conninfo: db.conninfo, size: 1))
        for schema in ["ps_a", "ps_b", "ps_a", "ps_b", "ps_a", "ps_b"] {
            try await pool.withTransaction(searchPath: schema) { tx in
                _ = try await tx.query("SELECT v FROM t WHERE v <> $1 AND v <> $2", ["-".pgBind, "+".pgBind])
            }
        }
        let inTransactions = try await pool.query(
            "SELECT count(*)::int8 AS n, sum(custom_plans)::int8 AS c FROM pg_prepared_statements WHERE statement LIKE '%AND v <> $2'")
        #expect(try inTransactions.first?.decode("n", as: Int.self) == 2)
        #expect(try inTransactions.first?.decode("c", as: Int.self) == 0)
        await pool.shutdown()
    }
}
