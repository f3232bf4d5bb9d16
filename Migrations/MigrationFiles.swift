#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// The migration files, shipped as package resources: an installed binary or an image finds
/// them next to itself (the `authd_AuthMigrations.resources` bundle), never through the source
/// tree it was built from.
public enum MigrationFiles {
    /// The folder holding `global/` and `tenant/` (nil when the bundle was not installed).
    public static var root: String? {
        guard let global = Bundle.module.url(forResource: "global", withExtension: nil) else { return nil }
        return global.deletingLastPathComponent().path
    }
}
