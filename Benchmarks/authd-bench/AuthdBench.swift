// authd-bench: the figures of `make bench`, printed as tables.
//
// Every figure is set against a baseline measured in the same run on this machine: pool rows
// against raw libpq round trips, logins and signups against argon2's ceiling (hashes/s × cores),
// refreshes against pgbench running the bare refresh transaction, /auth/me against a bare route.
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

@main
struct AuthdBench {
    static func main() async {
        let args = CommandLine.arguments
        if let i = args.firstIndex(of: "--serve-bare"), i + 1 < args.count, let port = Int(args[i + 1]) {
            do { try await BareServer.run(port: port) } catch { exit(1) }
            return
        }
        let env = ProcessInfo.processInfo.environment
        if let i = args.firstIndex(of: "--serve-notes"), i + 2 < args.count, let port = Int(args[i + 1]) {
            do { try await BareServer.runNotes(port: port, authd: args[i + 2], databaseURL: env["AUTH_DATABASE_URL"] ?? "") } catch { exit(1) }
            return
        }
        guard let conninfo = env["AUTH_DATABASE_URL"], !conninfo.isEmpty else {
            FileHandle.standardError.write(Data("AUTH_DATABASE_URL is not set (run `make bench`)\n".utf8))
            exit(2)
        }
        let iterations = Int(env["AUTH_BENCH_ITERATIONS"] ?? "") ?? 20_000
        let seconds = Double(env["AUTH_BENCH_SECONDS"] ?? "") ?? 5
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // AUTH_BENCH_ONLY=db,backlog,tenants,http,events runs some tables (argon2's baseline always runs).
        // AUTH_BENCH_TENANT_FLOWS=off leaves the login/refresh/me rows out of the tenants table.
        let only = Set((env["AUTH_BENCH_ONLY"] ?? "").split(separator: ",").map(String.init))
        func wanted(_ section: String) -> Bool { only.isEmpty || only.contains(section) }
        do {
            print("authd-bench: \(cores) cores; \(iterations) queries per database row, \(Int(seconds)) s per HTTP row")
            if wanted("db") {
                BenchTable.print("Database (libpq, pool)", try await DatabaseBench(conninfo: conninfo).run(iterations: iterations))
            }

            let argon2 = try await Argon2Bench.run(cores: cores)
            let ceiling = argon2.ceiling
            let all = argon2.hasherAllCores
            BenchTable.print("argon2id (m=19456 KiB, t=2, p=1)", [
                BenchRow(name: "one hash, 1 thread: libargon2 (Debian, portable)", value: "\(BenchTable.f(argon2.libargon2Median)) ms", note: "median"),
                BenchRow(
                    name: "one hash, 1 thread: libsodium (what authd uses)", value: "\(BenchTable.f(argon2.libsodiumMedian)) ms",
                    note: "median; × \(BenchTable.f(argon2.libargon2Median / argon2.libsodiumMedian, 2)) faster than libargon2"),
                BenchRow(
                    name: "ceiling = \(cores) cores × 1000 / fastest median", value: BenchTable.f(ceiling),
                    note: "hashes/s; baseline for signups and logins"),
                BenchRow(name: "hashes/s, authd's hasher on \(cores) threads", value: BenchTable.f(all), note: "× \(BenchTable.f(all / ceiling, 2)) ceiling"),
            ])
            if wanted("tenants") {
                let n = Int(env["AUTH_BENCH_TENANTS"] ?? "") ?? 1000
                BenchTable.print("Tenants (\(n), a database of their own)", try await TenantBench(conninfo: conninfo, tenants: n, authd: env["AUTH_BENCH_TENANT_FLOWS"] == "off" ? nil : env["AUTHD_BIN"]).run())
            }
            if wanted("backlog") {
                BenchTable.print("Event backlog (in process)", try await BacklogBench(conninfo: conninfo).run())
            }

            if let authd = env["AUTHD_BIN"], FileManager.default.isExecutableFile(atPath: authd) {
                let bench = HTTPBench(
                    conninfo: conninfo, authd: authd, selfPath: CommandLine.arguments[0], pgbin: env["AUTH_TEST_PG_BIN"], seconds: seconds)
                if wanted("http") {
                    BenchTable.print("HTTP flows (authd serve in its own process, loopback)", try await bench.run(argon2Ceiling: ceiling, argon2Measured: all))
                }
                if wanted("events") {
                    BenchTable.print("Events (authd listen in its own process)", try await EventsBench(conninfo: conninfo, authd: authd).run())
                }
            } else {
                print("\n(AUTHD_BIN not set: HTTP rows skipped)")
            }
        } catch {
            FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
            exit(1)
        }
    }
}
