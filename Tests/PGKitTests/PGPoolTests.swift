import Synchronization
import TestSupport
import Testing
@testable import PGKit

/// The pool against a real server: concurrency, timeouts, broken connections.
@Suite struct PGPoolTests {
    static let db = SuiteDatabase()

    @Test func fiftyTasksShareFourConnections() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 4) { pool in
            let inFlight = InFlight()
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        try await pool.withConnection { lease in
                            inFlight.enter()
                            defer { inFlight.leave() }
                            let row = try #require(try await lease.query(
                                "SELECT pg_backend_pid() AS pid, $1::int AS i, pg_sleep(0.005)", i).first)
                            #expect(try row.decode("i", as: Int.self) == i)
                            return try row.decode("pid", as: Int32.self)
                        }
                    }
                }
                var all: [Int32] = []
                for try await pid in group { all.append(pid) }
                return all
            }
            #expect(pids.count == 50)
            #expect(Set(pids).count <= 4)
            #expect(inFlight.peak <= 4)
        }
    }

    /// A connection past `maxConnectionAge` is replaced at its next lease (a new server
    /// process), and counted; within its term it is kept.
    @Test func aConnectionIsReplacedAfterItsTerm() async throws {
        let db = try await Self.db.get()
        func pid(_ pool: PGPool) async throws -> Int32 { try await pool.withConnection { $0.backendPID } }
        let short = PGPool(.init(conninfo: db.conninfo, size: 1, maxConnectionAge: .milliseconds(500)))
        let first = try await pid(short)
        try await Task.sleep(for: .milliseconds(600))
        let second = try await pid(short)
        #expect(first != second)
        #expect(short.statistics.snapshot.connectionsRetired == 1)
        // The new connection works and starts a term of its own.
        #expect(try await short.withConnection { try await $0.query("SELECT 1 AS one").first?.decode("one", as: Int.self) } == 1)
        await short.shutdown()

        let long = PGPool(.init(conninfo: db.conninfo, size: 1, maxConnectionAge: .seconds(3600)))
        let kept = try await pid(long)
        #expect(try await pid(long) == kept)
        #expect(long.statistics.snapshot.connectionsRetired == 0)
        await long.shutdown()
    }

    @Test func aKeyKeepsMeetingItsHomeConnections() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 4) { pool in
            // Four leases at once: all four connections open, one on each thread.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await pool.withConnection { _ = try await $0.query("SELECT pg_sleep(0.2)") } } }
                try await group.waitForAll()
            }
            var met: [String: Set<Int>] = [:]
            var pidOfSlot: [Int: Int32] = [:]
            let keys = (0..<8).map { "tenant_\($0)" }
            for _ in 0..<3 {
                for key in keys {
                    let (slot, pid) = try await pool.withConnection(affinity: key) { ($0.slot.thread.index, $0.backendPID) }
                    met[key, default: []].insert(slot)
                    #expect(pidOfSlot[slot] == nil || pidOfSlot[slot] == pid)  // a slot keeps its server process
                    pidOfSlot[slot] = pid
                }
            }
            // Nothing else was running: every key met only its two home connections.
            for key in keys {
                let homes = pool.homes(for: key)
                #expect(homes.count == 2 && homes[0] != homes[1])
                #expect(met[key].map { $0.isSubset(of: Set(homes)) } == true, "\(key) met \(met[key] ?? []), homes \(homes)")
            }
            #expect(Set(keys.flatMap(pool.homes(for:))).count > 2)
        }
        // A pool of one has one home for everyone.
        try await db.withPool(size: 1) { pool in #expect(pool.homes(for: "tenant_0") == [0]) }
    }

    /// Counts tasks in, so a test can wait until all of them hold their connection.
    final class Gate: Sendable {
        private let count = Mutex(0)
        func enter() { count.withLock { $0 += 1 } }
        func wait(for n: Int) async throws {
            while count.withLock({ $0 }) < n { try await Task.sleep(for: .milliseconds(5)) }
        }
    }

    /// Opens every connection of `pool` (one on each thread): `size` leases held at once.
    static func openAll(_ pool: PGPool) async throws {
        let gate = Gate()
        let size = pool.configuration.size
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<size {
                group.addTask {
                    try await pool.withConnection { _ in
                        gate.enter()
                        try await gate.wait(for: size)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// A key other than `key` with the same two homes.
    static func twin(of key: String, in pool: PGPool) -> String {
        let homes = Set(pool.homes(for: key))
        return (0...).lazy.map { "twin_\($0)" }.first { Set(pool.homes(for: $0)) == homes }!
    }

    @Test func aTaskWaitsForAHomeOnlyAsLongAsConfigured() async throws {
        let db = try await Self.db.get()
        for homeWait in [Duration.milliseconds(300), .seconds(60)] {
            let pool = PGPool(.init(conninfo: db.conninfo, size: 3, acquireTimeout: .seconds(120), homeWait: homeWait))
            try await Self.openAll(pool)
            let key = "tenant_wait"
            let homes = Set(pool.homes(for: key))
            // Both homes held by another key's tasks until told to stop, the third connection idle.
            let other = Self.twin(of: key, in: pool)
            let holding = Gate()
            let release = Gate()
            let slot = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.withConnection(affinity: other) { _ in
                            holding.enter()
                            try await release.wait(for: 1)
                        }
                        return nil
                    }
                }
                try await holding.wait(for: 2)
                let start = ContinuousClock.now
                group.addTask {
                    let slot = try await pool.withConnection(affinity: key) { $0.slot.thread.index }
                    if homeWait == .milliseconds(300) {
                        // Its wait ran out while the homes were still held: after at least that long.
                        #expect(ContinuousClock.now - start >= .milliseconds(290))
                        release.enter()
                    }
                    return slot
                }
                if homeWait == .seconds(60) {
                    // A home comes back while it waits.
                    try await Task.sleep(for: .milliseconds(200))
                    release.enter()
                }
                var slot: Int?
                for try await result in group { if let result { slot = result } }
                return slot
            }
            if homeWait == .seconds(60) {
                #expect(slot.map(homes.contains) == true, "took \(slot.map(String.init) ?? "nothing"), homes \(homes)")
            } else {
                // The free connection: the homes were held until it had one.
                #expect(slot.map(homes.contains) == false, "took \(slot.map(String.init) ?? "nothing"), homes \(homes)")
            }
            await pool.shutdown()
        }
    }

    @Test func aKeyWhoseHomesItFillsItselfDoesNotWaitForThem() async throws {
        let db = try await Self.db.get()
        let pool = PGPool(.init(conninfo: db.conninfo, size: 3, acquireTimeout: .seconds(120), homeWait: .seconds(60)))
        try await Self.openAll(pool)
        let key = "tenant_hot"
        let homes = Set(pool.homes(for: key))
        let gate = Gate()
        let release = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Two of the key's own tasks hold its two homes until told to stop.
            for _ in 0..<2 {
                group.addTask {
                    try await pool.withConnection(affinity: key) { _ in
                        gate.enter()
                        try await release.wait(for: 1)
                    }
                }
            }
            try await gate.wait(for: 2)
            // A third task for the key takes the free connection at once; were it waiting for a
            // home, it would get one only when the home wait (60 s) ran out, since the holders
            // stop only after it finished.
            let start = ContinuousClock.now
            let slot = try await pool.withConnection(affinity: key) { $0.slot.thread.index }
            #expect(!homes.contains(slot), "took \(slot), homes \(homes)")
            #expect(ContinuousClock.now - start < .seconds(30))
            release.enter()
            try await group.waitForAll()
        }
        await pool.shutdown()
    }

    @Test func aKeyIsCountedOutOnEveryPath() async throws {
        let db = try await Self.db.get()
        let pool = PGPool(.init(conninfo: db.conninfo, size: 1, acquireTimeout: .milliseconds(300), homeWait: .milliseconds(100)))
        let key = "tenant_count"
        try await pool.withConnection { _ in
            // The one connection is held: a task for the key waits for its home, then for any,
            // then times out.
            #expect(pool.inFlight(key) == 0)
            await #expect(throws: PGError.self) { try await pool.withConnection(affinity: key) { _ in } }
            #expect(pool.inFlight(key) == 0)
            // Cancelled while waiting.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.withConnection(affinity: key) { _ in } }
                while pool.inFlight(key) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                group.cancelAll()
                await #expect(throws: CancellationError.self) { try await group.next() }
            }
            #expect(pool.inFlight(key) == 0)
        }
        // The body throwing, and succeeding.
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await pool.withConnection(affinity: key) { _ in throw Boom() } }
        try await pool.withConnection(affinity: key) { _ in #expect(pool.inFlight(key) == 1) }
        #expect(pool.inFlight(key) == 0)
        await pool.shutdown()
    }

    @Test func acquireTimesOutAndThePoolRecovers() async throws {
        let db = try await Self.db.get()
        let pool = PGPool(.init(conninfo: db.conninfo, size: 1, acquireTimeout: .milliseconds(200)))
        do {
            try await pool.withConnection { _ in
                do {
                    try await pool.query("SELECT 1")
                    Issue.record("second acquire on a pool of one must time out")
                } catch let error as PGError {
                    #expect(error.kind == .acquireTimeout)
                }
            }
            // The timed-out waiter left nothing behind: the connection is free again.
            #expect(try await pool.query("SELECT 7 AS n").first?.decode("n", as: Int.self) == 7)
        }
        await pool.shutdown()
    }

    @Test func cancelledWaiterLeavesThePoolUsable() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            try await pool.withConnection { _ in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try? await pool.query("SELECT 1") }
                    try? await Task.sleep(for: .milliseconds(50))
                    group.cancelAll()
                }
            }
            #expect(try await pool.query("SELECT 1 AS n").first?.decode("n", as: Int.self) == 1)
        }
    }

    @Test func terminatedBackendIsReplaced() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let pid: Int32 = try #require(try await pool.query("SELECT pg_backend_pid() AS pid").first).decode("pid")
            // Kill it from another connection, and wait until the server has really let it go.
            try await db.withPool(size: 1) { admin in
                try await admin.query("SELECT pg_terminate_backend($1)", pid)
                let gone = try await eventually {
                    try await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).isEmpty
                }
                #expect(gone)
            }
            let newPID: Int32 = try #require(try await pool.query("SELECT pg_backend_pid() AS pid").first).decode("pid")
            #expect(newPID != pid)
        }
    }

    @Test func connectionErrorsAreClear() async throws {
        let pool = PGPool(.init(conninfo: "host=127.0.0.1 port=1 connect_timeout=2 sslmode=disable", size: 1))
        do {
            try await pool.query("SELECT 1")
            Issue.record("connecting to a closed port must fail")
        } catch let error as PGError {
            #expect(error.kind == .connection)
        }
        // The failed open freed its slot: a second attempt fails the same way, not by timeout.
        await #expect(throws: PGError.self) { try await pool.query("SELECT 1") }
        await pool.shutdown()
    }
}

/// Counts concurrent holders and remembers the most at once.
final class InFlight: Sendable {
    private let state = Mutex((now: 0, peak: 0))
    func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
}
