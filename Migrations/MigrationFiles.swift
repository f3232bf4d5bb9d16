#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// The migration files, shipped as package resources: an installed binary or an image finds
/// them next to itself (the `authd_AuthMigrations.resources` folder), and a binary run from the
/// build tree finds them in the checkout.
public enum MigrationFiles {
    /// The folder holding `global/` and `tenant/` (nil when neither is installed).
    public static var root: String? {
        if let bundle = PackageResources.bundle(module: "AuthMigrations"),
           FileManager.default.fileExists(atPath: bundle.appendingPathComponent("global").path)
        {
            return bundle.path
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: source.appendingPathComponent("global").path) ? source.path : nil
    }
}

/// Finds a module's resource folder without `Bundle.module`, whose generated accessor ends the
/// process (`fatalError`) when the folder was not installed: authd says what is missing instead.
public enum PackageResources {
    /// `authd_<module>.resources` beside the executable, if it is there.
    public static func bundle(module: String) -> URL? {
        let name = "authd_\(module).resources"
        var candidates = [Bundle.main.bundleURL.appendingPathComponent(name)]
        if let executable = Bundle.main.executableURL?.deletingLastPathComponent() {
            candidates.append(executable.appendingPathComponent(name))
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }
}
