#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit

/// Where one side's requests spent their cost, summed over some passes: CPU of authd, of the
/// database server processes behind its connections, of PostgreSQL's background processes
/// (WAL writer, checkpointer, …), of the bench driver itself, and the WAL written.
///
/// The two sides' passes alternate and never overlap, so cluster-wide figures (background CPU,
/// WAL) sampled around a pass belong mostly to that pass's side: background work a pass set off
/// (autovacuum, the checkpointer writing its pages) can fall into the next pass's window. It answers whether the gap between
/// one tenant and many lies in authd or in PostgreSQL.
struct PassCost {
    var requests = 0
    var authd = 0.0
    var sessions = 0.0
    var background = 0.0
    var driver = 0.0
    var walBytes = 0.0
    /// Bytes of full-page images in that WAL; nil when `pg_walinspect` could not read it.
    var fullPageBytes: Double? = 0

    /// CPU (seconds) and WAL position at one moment; database processes by pid, since they
    /// come and go (autovacuum workers): one gone by the end of a pass drops out of its figure
    /// rather than making it negative, one new counts all it used.
    struct Sample {
        let authd: Double
        let sessions: [Int32: Double]
        let background: [Int32: Double]
        let driver: Double
        let lsn: String

        static func used(_ from: [Int32: Double], _ to: [Int32: Double]) -> Double {
            to.reduce(0) { sum, process in sum + process.value - (from[process.key] ?? 0) }
        }
    }

    /// Samples the counters for the side whose connections are tagged `application`.
    static func sample(_ conn: PGConnection, authd pid: Int32, application: String) throws -> Sample {
        let processes = try conn.query(
            "SELECT pid, coalesce(application_name, '') AS app, coalesce(backend_type, '') AS kind FROM pg_stat_activity", [])
            .map { (try $0.decode("pid", as: Int32.self), try $0.decode("app", as: String.self), try $0.decode("kind", as: String.self)) }
        var sessions: [Int32: Double] = [:]
        var background: [Int32: Double] = [:]
        for (pid, app, kind) in processes {
            let cpu = ServerProcess.cpuSeconds(pid: pid)
            guard cpu.isFinite else { continue }
            if app == application {
                sessions[pid] = cpu
            } else if kind != "client backend" {
                background[pid] = cpu
            }
        }
        let lsn = try conn.query("SELECT pg_current_wal_flush_lsn()::text AS lsn", []).first?.decode("lsn", as: String.self) ?? "0/0"
        return Sample(
            authd: ServerProcess.cpuSeconds(pid: pid), sessions: sessions, background: background,
            driver: ServerProcess.cpuSeconds(pid: getpid()), lsn: lsn)
    }

    /// Adds one pass of `requests` between `before` and `after`.
    mutating func add(_ conn: PGConnection, requests: Int, from before: Sample, to after: Sample) {
        self.requests += requests
        authd += after.authd - before.authd
        sessions += Sample.used(before.sessions, after.sessions)
        background += Sample.used(before.background, after.background)
        driver += after.driver - before.driver
        walBytes += Double(Self.position(after.lsn) &- Self.position(before.lsn))
        guard let full = fullPageBytes else { return }
        // Reads the pass's WAL back; a checkpoint that recycled it, or no extension, ends this
        // figure for the side rather than the bench.
        let images = try? conn.query(
            "SELECT coalesce(sum(fpi_size), 0)::int8 AS fpi FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn)",
            [before.lsn.pgBind, after.lsn.pgBind]
        ).first?.decode("fpi", as: Int64.self)
        fullPageBytes = images.map { full + Double($0) }
    }

    /// Microseconds of CPU per request: authd · database sessions · database background · driver.
    var cpuPerRequest: String {
        guard requests > 0 else { return "–" }
        let us = [authd, sessions, background, driver].map { String(Int(($0 / Double(requests) * 1e6).rounded())) }
        return us.joined(separator: " · ") + " µs"
    }

    /// WAL bytes per request, and the share of full-page images in it.
    var walPerRequest: String {
        guard requests > 0 else { return "–" }
        let bytes = "\(Int((walBytes / Double(requests)).rounded())) B"
        guard let full = fullPageBytes, walBytes > 0 else { return bytes }
        return bytes + " · \(Int((full / walBytes * 100).rounded())) %"
    }

    /// An LSN (`16/B374D848`) as a byte position.
    static func position(_ lsn: String) -> UInt64 {
        let parts = lsn.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else { return 0 }
        return high << 32 | low
    }
}
