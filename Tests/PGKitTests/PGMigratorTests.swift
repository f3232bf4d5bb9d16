#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import TestSupport
import Testing
@testable import PGKit

/// The migrator on a blank database: order, idempotence, checksums, concurrent runs.
@Suite struct PGMigratorTests {
    static let db = SuiteDatabase(migrated: false)

    /// A migrations folder of this test's own.
    func folder(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "authd-migrations-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    func schema() -> String { "m_" + UUID().uuidString.prefix(8).lowercased() }

    let files = [
        // Written out of order on purpose: the second depends on the first.
        "20260102000000_add_note.sql": "-- why: test\nALTER TABLE items ADD COLUMN note text;",
        "20260101000000_create_items.sql": "-- why: test\nCREATE TABLE items (id int PRIMARY KEY);",
        "20260103000000_seed_items.sql": "-- why: test\nINSERT INTO items VALUES (1, 'one'); INSERT INTO items VALUES (2, 'two');",
    ]

    @Test func appliesInVersionOrderOnceAndIsIdempotent() async throws {
        let db = try await Self.db.get()
        let migrator = PGMigrator(migrations: try PGMigration.load(directory: try folder(files)))
        let s = schema()
        try await db.withPool(size: 1) { pool in
            try await pool.withConnection { lease in
                let first = try await PGMigrator.withMigrationLock(on: lease) { try await migrator.migrate(schema: s, on: lease) }
                #expect(first.map(\.version) == ["20260101000000", "20260102000000", "20260103000000"])
                let second = try await migrator.migrate(schema: s, on: lease)
                #expect(second.isEmpty)
            }
            let rows = try await pool.query("SELECT count(*)::int8 AS n FROM \(s).items")
            #expect(try rows.first?.decode("n", as: Int.self) == 2)
            let recorded = try await pool.query("SELECT version FROM \(s).schema_migrations ORDER BY version")
            #expect(recorded.count == 3)
            #expect(try await pool.withConnection { try await migrator.pendingMigrations(schema: s, on: $0) }.isEmpty)
        }
    }

    @Test func changedFileIsRefused() async throws {
        let db = try await Self.db.get()
        let s = schema()
        var changed = files
        changed["20260101000000_create_items.sql"] = "-- why: test\nCREATE TABLE items (id bigint PRIMARY KEY);"
        let original = PGMigrator(migrations: try PGMigration.load(directory: try folder(files)))
        let edited = PGMigrator(migrations: try PGMigration.load(directory: try folder(changed)))
        try await db.withPool(size: 1) { pool in
            try await pool.withConnection { lease in
                try await original.migrate(schema: s, on: lease)
                do {
                    try await edited.migrate(schema: s, on: lease)
                    Issue.record("a changed migration must be refused")
                } catch let error as PGError {
                    #expect(error.kind == .migration)
                    #expect(error.message.contains("20260101000000_create_items"))
                }
            }
        }
    }

    @Test func failingFileRollsBackAloneAndStopsTheRun() async throws {
        let db = try await Self.db.get()
        let s = schema()
        var broken = files
        broken["20260102000000_add_note.sql"] = "-- why: test\nALTER TABLE items ADD COLUMN note text; SELECT 1/0;"
        let migrator = PGMigrator(migrations: try PGMigration.load(directory: try folder(broken)))
        try await db.withPool(size: 1) { pool in
            await #expect(throws: PGError.self) {
                try await pool.withConnection { try await migrator.migrate(schema: s, on: $0) }
            }
            let applied = try await pool.query("SELECT version FROM \(s).schema_migrations")
            #expect(applied.count == 1)  // the first file committed; the broken one left no trace
            let noteColumn = try await pool.query(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'note'", s)
            #expect(noteColumn.isEmpty)
        }
    }

    @Test func twoConcurrentMigratorsApplyEachFileOnce() async throws {
        let db = try await Self.db.get()
        let s = schema()
        let dir = try folder(files)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    // Separate pools: separate sessions, as two processes would have.
                    try await db.withPool(size: 1) { pool in
                        try await pool.withConnection { lease in
                            let migrator = PGMigrator(migrations: try PGMigration.load(directory: dir))
                            return try await PGMigrator.withMigrationLock(on: lease) {
                                try await migrator.migrate(schema: s, on: lease).count
                            }
                        }
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.sorted() == [0, 3])
    }

    @Test func malformedNamesAreRejected() {
        for bad in ["2026_create.sql", "20260101000000_Create_Items.sql", "20260101000000_create.sql",
                    "20260101000000_create__items.sql", "x20260101000000_create_items.sql"] {
            #expect(throws: PGError.self) { try PGMigration(fileName: bad, sql: "-- why\nSELECT 1;") }
        }
        #expect(throws: PGError.self) { try PGMigration(fileName: "20260101000000_create_items.sql", sql: "SELECT 1;") }
        #expect(throws: Never.self) { try PGMigration(fileName: "20260101000000_create_items.sql", sql: "-- why\nSELECT 1;") }
    }
}
