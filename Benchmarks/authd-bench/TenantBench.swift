import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit

/// Many tenants (issue 21 item 3), on a database of its own so the bench's extra migrations
/// never reach the database the HTTP rows use: tenant create p50/p99, one new tenant migration
/// across every schema with one and with four connections, and the readiness check's cost.
struct TenantBench: Sendable {
    let conninfo: String
    let tenants: Int
    /// `authd` to run the flows against (nil: only the registry and migration rows).
    let authd: String?
    /// Tenants created from a spare, after the others.
    static let spareCreates = 50

    func run() async throws -> [BenchRow] {
        let name = "authd_bench_tenants"
        let admin = PGPool(.init(conninfo: conninfo + " dbname=postgres", size: 1))
        try await admin.query("DROP DATABASE IF EXISTS \(name)")
        try await admin.query("CREATE DATABASE \(name)")
        let pool = PGPool(.init(conninfo: conninfo + " dbname=\(name)", size: 5))
        do {
            let rows = try await measure(pool)
            await pool.shutdown()
            try await admin.query("DROP DATABASE IF EXISTS \(name)")
            await admin.shutdown()
            return rows
        } catch {
            await pool.shutdown()
            await admin.shutdown()
            throw error
        }
    }

    private func measure(_ pool: PGPool) async throws -> [BenchRow] {
        guard let root = MigrationCatalog.locateRoot() else { throw BenchError("migration files not found") }
        let catalog = try MigrationCatalog.load(root: root)
        let registry = TenantRegistry(db: AuthDatabase(pool: pool), migrations: catalog)
        try await DatabaseMigrator(registry: registry).migrate()
        var creates: [Double] = []
        for i in 0..<tenants {
            let start = ContinuousClock.now
            _ = try await registry.create(slug: "bench-\(i)")
            creates.append(elapsed(since: start) * 1000)
        }
        creates.sort()
        var rows = [BenchRow(
            name: "tenant create, no spare (registry row + schema + tables)", value: "p50 \(BenchTable.f(percentile(creates, 0.5))) ms",
            note: "p99 \(BenchTable.f(percentile(creates, 0.99))) ms over \(tenants) tenants (target p50 < 50 ms)")]
        // The same with a spare schema ready (what `authd serve`'s keeper provides), made untimed.
        var claims: [Double] = []
        for i in 0..<Self.spareCreates {
            try await registry.makeSpares(upTo: 1)
            let start = ContinuousClock.now
            _ = try await registry.create(slug: "bench-spare-\(i)")
            claims.append(elapsed(since: start) * 1000)
        }
        claims.sort()
        rows.append(BenchRow(
            name: "tenant create, a spare ready (registry row + claim)", value: "p50 \(BenchTable.f(percentile(claims, 0.5))) ms",
            note: "p99 \(BenchTable.f(percentile(claims, 0.99))) ms over \(Self.spareCreates) creates after the \(tenants)"))

        // One more tenant migration, as a release would bring, across every schema.
        var times: [Int: Double] = [:]
        for (jobs, file) in [(1, "29990101000000_bench_one.sql"), (4, "29990101000001_bench_four.sql")] {
            let extra = try PGMigration(fileName: file, sql: "-- why: bench\nCREATE TABLE bench_\(jobs) (id int);")
            let extended = MigrationCatalog(global: catalog.global.migrations, tenant: catalog.tenant.migrations + [extra])
            let migrator = DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: extended))
            let start = ContinuousClock.now
            try await migrator.migrate(jobs: jobs)
            times[jobs] = elapsed(since: start)
        }
        let total = Double(tenants + Self.spareCreates + 1)
        if let one = times[1], let four = times[4] {
            rows.append(BenchRow(
                name: "migrate: one new tenant migration, --jobs 1", value: "\(BenchTable.f(one / total * 1000, 2)) s/1000",
                note: "\(BenchTable.f(one, 2)) s for \(Int(total)) schemas"))
            rows.append(BenchRow(
                name: "migrate: the same, --jobs 4", value: "\(BenchTable.f(four / total * 1000, 2)) s/1000",
                note: "× \(BenchTable.f(one / four, 2)) faster than --jobs 1"))
        }
        // The readiness probe: every schema until it has seen them current, then one query.
        let migrator = DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: catalog))
        var start = ContinuousClock.now
        _ = try await migrator.status()
        let full = elapsed(since: start) * 1000
        let memory = ReadinessMemory()
        _ = try await migrator.readiness(memory)
        start = ContinuousClock.now
        for _ in 0..<100 { _ = try await migrator.readiness(memory) }
        let cached = elapsed(since: start) * 10
        rows.append(BenchRow(
            name: "readiness check, \(Int(total)) tenants", value: "\(BenchTable.f(cached, 2)) ms",
            note: "a full status read of every schema: \(BenchTable.f(full, 1)) ms (done once, until it is current)"))
        if let authd {
            let slugs = (0..<tenants).map { "bench-\($0)" }
            rows += try await TenantFlowsBench(conninfo: conninfo + " dbname=authd_bench_tenants", authd: authd, slugs: slugs).run()
        }
        return rows
    }
}
