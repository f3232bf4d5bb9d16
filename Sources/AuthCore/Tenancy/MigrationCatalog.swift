#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    /// Finds the `Migrations` folder: `explicit` if given, else `./Migrations`, else the one in
    /// the source checkout this binary was built from.
    public static func locateRoot(explicit: String? = nil) -> String? {
        if let explicit { return explicit }
        var candidates = [FileManager.default.currentDirectoryPath + "/Migrations"]
        // Sources/AuthCore/Tenancy/MigrationCatalog.swift → repository root.
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root = root.deletingLastPathComponent() }
        candidates.append(root.appendingPathComponent("Migrations").path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/global") }
    }
}
