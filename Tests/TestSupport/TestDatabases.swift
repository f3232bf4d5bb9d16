import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit

/// Databases for tests, on the throwaway cluster `make test` starts (DESIGN.md §7).
///
/// Each suite that touches shared state (the `auth` schema, advisory locks, NOTIFY channels) gets
/// a database of its own, cloned from a template migrated once per test process. Tests inside a
/// suite isolate further with their own tenant schemas.
public actor TestDatabases {
    public static let shared = TestDatabases()

    /// Built once per process; concurrent first callers share the same build.
    private var template: Task<String, any Error>?
    private var counter = 0

    /// The cluster's admin conninfo; a missing one fails loudly (tests never skip the database).
    public static func adminConninfo() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["AUTH_TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestSetupError(
                "AUTH_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a throwaway PostgreSQL")
        }
        return url
    }

    /// A fresh database with the global schema migrated and the `default` tenant created.
    public func migrated() async throws -> TestDatabase {
        let template = try await ensureTemplate()
        return try await create(template: template)
    }

    /// A fresh, empty database (for migrator tests).
    public func blank() async throws -> TestDatabase {
        try await create(template: nil)
    }

    private func create(template: String?) async throws -> TestDatabase {
        counter += 1
        let name = "authd_test_\(getpid())_\(counter)"
        let admin = try Self.adminConninfo()
        let clause = template.map { " TEMPLATE \($0) STRATEGY FILE_COPY" } ?? ""
        let pool = PGPool(.init(conninfo: admin, size: 1))
        do {
            try await pool.query("CREATE DATABASE \(name)\(clause)")
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
        return TestDatabase(name: name, conninfo: admin + " dbname=\(name)")
    }

    private func ensureTemplate() async throws -> String {
        if let template { return try await template.value }
        let task = Task { try await Self.buildTemplate() }
        template = task
        return try await task.value
    }

    private static func buildTemplate() async throws -> String {
        let name = "authd_template_\(getpid())"
        let admin = try Self.adminConninfo()
        let adminPool = PGPool(.init(conninfo: admin, size: 1))
        try await adminPool.query("DROP DATABASE IF EXISTS \(name)")
        try await adminPool.query("CREATE DATABASE \(name)")
        await adminPool.shutdown()
        let db = TestDatabase(name: name, conninfo: admin + " dbname=\(name)")
        let pool = db.makePool(size: 1)
        do {
            try await DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: try TestDatabase.catalog())).migrate()
        } catch {
            await pool.shutdown()
            throw error
        }
        // Cloning needs the template to have no connections.
        await pool.shutdown()
        return name
    }
}

/// One test database.
public struct TestDatabase: Sendable {
    public let name: String
    public let conninfo: String

    /// A database made elsewhere (e.g. on a cluster of a test's own).
    public init(name: String, conninfo: String) {
        self.name = name
        self.conninfo = conninfo
    }

    /// A small pool (≤ 4 connections keeps parallel suites under max_connections).
    public func makePool(size: Int = 4, acquireTimeout: Duration = .seconds(30)) -> PGPool {
        PGPool(.init(conninfo: conninfo, size: size, acquireTimeout: acquireTimeout))
    }

    /// Runs `body` with a pool on this database and shuts the pool down afterwards.
    public func withPool<T>(size: Int = 4, _ body: (PGPool) async throws -> T) async throws -> T {
        let pool = makePool(size: size)
        do {
            let value = try await body(pool)
            await pool.shutdown()
            return value
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    /// A tenant registry over `pool` with the repository's migrations.
    public static func registry(_ pool: PGPool) throws -> TenantRegistry {
        TenantRegistry(db: AuthDatabase(pool: pool), migrations: try catalog())
    }

    /// A slug no other test uses.
    public static func uniqueSlug(_ prefix: String = "t") -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The repository's migrations.
    public static func catalog() throws -> MigrationCatalog {
        guard let root = MigrationCatalog.locateRoot() else { throw TestSetupError("Migrations folder not found") }
        return try MigrationCatalog.load(root: root)
    }
}

/// A test environment problem (not a product failure).
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A database shared by the tests of one suite: `static let db = SuiteDatabase()` in the suite,
/// then `try await Self.db.get()` in each test (Swift Testing makes a suite instance per test).
public actor SuiteDatabase {
    private var database: Task<TestDatabase, any Error>?
    private let migrated: Bool

    public init(migrated: Bool = true) {
        self.migrated = migrated
    }

    public func get() async throws -> TestDatabase {
        if let database { return try await database.value }
        let migrated = self.migrated
        let task = Task { migrated ? try await TestDatabases.shared.migrated() : try await TestDatabases.shared.blank() }
        database = task
        return try await task.value
    }
}

/// Polls `condition` until it holds or `timeout` passes (timing promises belong to benchmarks;
/// tests only wait generously).
public func eventually(
    timeout: Duration = .seconds(10), interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

extension TestDatabase {
    /// `pg_dump --data-only` of this database, as text: what a stolen backup would hold.
    public func dump() throws -> String {
        guard let bin = ProcessInfo.processInfo.environment["AUTH_TEST_PG_BIN"], !bin.isEmpty else {
            throw TestSetupError("AUTH_TEST_PG_BIN is not set: run the tests with `make test`")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bin + "/pg_dump")
        process.arguments = ["--data-only", "--no-owner", "-d", conninfo]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSetupError("pg_dump failed (\(process.terminationStatus))") }
        return String(decoding: data, as: UTF8.self)
    }
}
