#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import AuthMigrations

/// The built-in deny list of common passwords, a package resource (`common-passwords.txt`, from
/// zxcvbn's leaked-password frequency list), read once on first use (empty when not installed:
/// `AuthRuntime` then refuses to start).
enum CommonPasswords {
    static let all: Set<String> = load()

    static func contains(_ lowercasedPassword: String) -> Bool { all.contains(lowercasedPassword) }

    /// How many entries were loaded (0: the resource is missing — start-up refuses that).
    static var count: Int { all.count }

    private static func load() -> Set<String> {
        // Beside the executable (installed), else in the checkout it was built from.
        let installed = PackageResources.bundle(module: "AuthCore")?.appendingPathComponent("common-passwords.txt")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/common-passwords.txt")
        guard let data = [installed, source].compactMap({ $0 }).lazy.compactMap({ try? Data(contentsOf: $0) }).first else { return [] }
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
    }
}
