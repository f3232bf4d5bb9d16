// authd-bench: figures for `make bench`, printed as one table.
//
// Each row is measured in the same run as its baseline, so ratios compare like with like on
// this machine: the pool rows are set against raw libpq round trips on one connection.
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit

@main
struct AuthdBench: Sendable {
    let conninfo: String

    static func main() async {
        let env = ProcessInfo.processInfo.environment
        guard let conninfo = env["AUTH_DATABASE_URL"], !conninfo.isEmpty else {
            FileHandle.standardError.write(Data("AUTH_DATABASE_URL is not set (run `make bench`)\n".utf8))
            exit(2)
        }
        let iterations = Int(env["AUTH_BENCH_ITERATIONS"] ?? "") ?? 20_000
        await AuthdBench(conninfo: conninfo).run(iterations: iterations)
    }

    func run(iterations: Int) async {
        do {
            print("authd-bench: \(iterations) operations per row, \(ProcessInfo.processInfo.activeProcessorCount) cores")
            let baseline = try await rawRoundTrips(iterations)
            var rows = [baseline]
            rows.append(try await pooled(size: 1, tasks: 1, iterations))
            rows.append(try await pooled(size: 4, tasks: 4, iterations))
            rows.append(try await pooled(size: 4, tasks: 16, iterations))
            rows.append(try await transactions(size: 4, tasks: 16, iterations / 2))
            print(pad("benchmark", 52) + lpad("ops", 8) + lpad("ops/s", 10) + lpad("µs/op", 9) + lpad("× baseline", 12))
            for r in rows {
                print(pad(r.name, 52) + lpad(String(r.operations), 8) + lpad(String(Int(r.perSecond)), 10)
                    + lpad(String(format: "%.1f", 1e6 / r.perSecond), 9) + lpad(String(format: "%.2f", r.perSecond / baseline.perSecond), 12))
            }
            print("baseline = libpq round trips on one connection; transactions are BEGIN + 1 statement + COMMIT")
        } catch {
            FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
            exit(1)
        }

    }


    struct Row: Sendable {
        var name: String
        var operations: Int
        var seconds: Double
        var perSecond: Double { Double(operations) / seconds }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Raw libpq on one connection, on a thread of its own (no pool, no async hop).
    func rawRoundTrips(_ n: Int) async throws -> Row {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Row, any Error>) in
            let thread = Thread {
                do {
                    let conn = try PGConnection(conninfo: conninfo)
                    for i in 0..<500 { try conn.query("SELECT $1::int4", [Int32(i).pgBind]) }
                    let start = ContinuousClock.now
                    for i in 0..<n { try conn.query("SELECT $1::int4", [Int32(i % 1000).pgBind]) }
                    c.resume(returning: Row(name: "libpq round trips, 1 connection, own thread", operations: n, seconds: Self.seconds(since: start)))
                } catch {
                    c.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Through the pool: every query is an async call with one hop to the pool's threads.
    func pooled(size: Int, tasks: Int, _ n: Int) async throws -> Row {
        let pool = PGPool(.init(conninfo: conninfo, size: size))
        // Warm up: open every connection.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<size { group.addTask { for _ in 0..<100 { try await pool.query("SELECT 1") } } }
            try await group.waitForAll()
        }
        let perTask = n / tasks
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask { try await pool.query("SELECT $1::int4", Int32((t + i) % 1000)) }
                }
            }
            try await group.waitForAll()
        }
        let row = Row(
            name: "pool: \(size) connection\(size == 1 ? "" : "s"), \(tasks) concurrent task\(tasks == 1 ? "" : "s")",
            operations: perTask * tasks, seconds: Self.seconds(since: start))
        await pool.shutdown()
        return row
    }

    /// Transactions through the pool (BEGIN, one statement, COMMIT: 3 round trips each).
    func transactions(size: Int, tasks: Int, _ n: Int) async throws -> Row {
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
        let row = Row(name: "pool: \(size) connections, \(tasks) tasks, transactions", operations: perTask * tasks, seconds: Self.seconds(since: start))
        await pool.shutdown()
        return row
    }

    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }


}
