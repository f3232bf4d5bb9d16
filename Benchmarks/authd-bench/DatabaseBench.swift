#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit

/// libpq round trips and the pool (issue 10's figures).
struct DatabaseBench: Sendable {
    let conninfo: String

    func run(iterations: Int) async throws -> [BenchRow] {
        let raw = try await rawRoundTrips(iterations)
        var rows = [BenchRow(name: "libpq round trips, 1 connection, own thread", value: "\(Int(raw))/s", note: "baseline")]
        for (size, tasks) in [(1, 1), (4, 4), (4, 16)] {
            let r = try await pooled(size: size, tasks: tasks, iterations)
            rows.append(BenchRow(
                name: "pool: \(size) conn, \(tasks) task(s), 1 query each", value: "\(Int(r))/s",
                note: "× \(BenchTable.f(r / raw, 2)) baseline"))
        }
        let t = try await transactions(size: 4, tasks: 16, iterations / 2)
        rows.append(BenchRow(name: "pool: 4 conn, 16 tasks, BEGIN+1+COMMIT", value: "\(Int(t))/s", note: "× \(BenchTable.f(t / raw, 2)) baseline"))
        return rows
    }

    func rawRoundTrips(_ n: Int) async throws -> Double {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Double, any Error>) in
            let conninfo = self.conninfo
            let thread = Thread {
                do {
                    let conn = try PGConnection(conninfo: conninfo)
                    for i in 0..<500 { try conn.query("SELECT $1::int4", [Int32(i).pgBind]) }
                    let start = ContinuousClock.now
                    for i in 0..<n { try conn.query("SELECT $1::int4", [Int32(i % 1000).pgBind]) }
                    c.resume(returning: Double(n) / elapsed(since: start))
                } catch {
                    c.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    func pooled(size: Int, tasks: Int, _ n: Int) async throws -> Double {
        let pool = PGPool(.init(conninfo: conninfo, size: size))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<size { group.addTask { for _ in 0..<100 { try await pool.query("SELECT 1") } } }
            try await group.waitForAll()
        }
        let perTask = n / tasks
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask { for i in 0..<perTask { try await pool.query("SELECT $1::int4", Int32((t + i) % 1000)) } }
            }
            try await group.waitForAll()
        }
        let rate = Double(perTask * tasks) / elapsed(since: start)
        await pool.shutdown()
        return rate
    }

    func transactions(size: Int, tasks: Int, _ n: Int) async throws -> Double {
        let pool = PGPool(.init(conninfo: conninfo, size: size))
        let perTask = n / tasks
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask {
                        try await pool.withTransaction { tx in try await tx.query("SELECT $1::int4", Int32(i % 1000)) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let rate = Double(perTask * tasks) / elapsed(since: start)
        await pool.shutdown()
        return rate
    }
}
