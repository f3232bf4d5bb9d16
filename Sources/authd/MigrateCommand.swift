import ArgumentParser
import AuthCore
import Synchronization

/// `authd migrate`: the global schema, every tenant schema, and the `default` tenant.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending migrations to every schema; create the default tenant.",
        discussion: """
            Each migration of each schema commits on its own: an interrupted run (killed, or a \
            failed migration) loses nothing, and running it again continues where it stopped.
            """)

    @Option(help: "Tenant schemas migrated at once (1–32; the pool gets one more connection).")
    var jobs = 1

    func validate() throws {
        guard (1...32).contains(jobs) else { throw ValidationError("--jobs must be 1–32") }
    }

    func run() async throws {
        let jobs = jobs
        try await Runtime.run(poolSize: jobs + 1) { runtime in
            // A line at most once a second (and at the end): done/total, rate, time left.
            let lastLine = ProgressClock()
            let report = try await DatabaseMigrator(registry: runtime.registry).migrate(jobs: jobs) { progress in
                let now = ContinuousClock.now
                let due = lastLine.last.withLock { last -> Bool in
                    guard now - last >= .seconds(1) || progress.done == progress.total else { return false }
                    last = now
                    return true
                }
                guard due, progress.total > 1 else { return }
                let seconds = progress.elapsed.timeInterval
                let rate = seconds > 0 ? Double(progress.done) / seconds : 0
                let left = rate > 0 ? Int(Double(progress.total - progress.done) / rate) : 0
                Console.error(
                    "tenants \(progress.done)/\(progress.total) (\(progress.migrated) migrated), \(Int(rate))/s, about \(left) s left")
            }
            Console.out("global: \(report.globalApplied.isEmpty ? "up to date" : "applied \(report.globalApplied.joined(separator: ", "))")")
            let migrated = report.tenantApplied.sorted(by: { $0.key < $1.key })
            for (slug, applied) in migrated.prefix(20) {
                Console.out("tenant \(slug): applied \(applied.count) migration(s)")
            }
            if migrated.count > 20 { Console.out("… and \(migrated.count - 20) more tenants migrated") }
            if report.createdDefaultTenant { Console.out("created tenant default") }
            Console.out("database is up to date")
        }
    }
}

/// When the last progress line was printed (shared by the migration workers).
private final class ProgressClock: Sendable {
    let last = Mutex(ContinuousClock.now - .seconds(2))
}
