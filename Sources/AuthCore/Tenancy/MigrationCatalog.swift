#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthMigrations
import PGKit

/// The two migration sets: `Migrations/global` (schema `auth`) and `Migrations/tenant` (every
/// tenant schema).
public struct MigrationCatalog: Sendable {
    /// The global schema's name.
    public static let globalSchema = "auth"

    public let global: PGMigrator
    public let tenant: PGMigrator

    public init(global: [PGMigration], tenant: [PGMigration]) {
        self.global = PGMigrator(migrations: global)
        self.tenant = PGMigrator(migrations: tenant)
    }

    /// Loads `<root>/global` and `<root>/tenant`.
    public static func load(root: String) throws -> MigrationCatalog {
        MigrationCatalog(
            global: try PGMigration.load(directory: root + "/global"),
            tenant: try PGMigration.load(directory: root + "/tenant"))
    }

    /// The folder to load: `explicit` if given (`AUTH_MIGRATIONS_DIR`), else the files shipped
    /// with this build (package resources).
    public static func locateRoot(explicit: String? = nil) -> String? {
        explicit ?? MigrationFiles.root
    }
}
