import ArgumentParser
import AuthCore

/// `authd migrate`: the global schema, every tenant schema, and the `default` tenant.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending migrations to every schema; create the default tenant.")

    func run() async throws {
        try await Runtime.run { runtime in
            let report = try await DatabaseMigrator(registry: runtime.registry).migrate()
            Console.out("global: \(report.globalApplied.isEmpty ? "up to date" : "applied \(report.globalApplied.joined(separator: ", "))")")
            for (slug, applied) in report.tenantApplied.sorted(by: { $0.key < $1.key }) {
                Console.out("tenant \(slug): applied \(applied.count) migration(s)")
            }
            if report.createdDefaultTenant { Console.out("created tenant default") }
            Console.out("database is up to date")
        }
    }
}
