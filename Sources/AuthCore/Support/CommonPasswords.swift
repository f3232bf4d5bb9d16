#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// The built-in deny list of common passwords, a package resource (`common-passwords.txt`, from
/// zxcvbn's leaked-password frequency list), read once on first use.
enum CommonPasswords {
    static let all: Set<String> = load()

    static func contains(_ lowercasedPassword: String) -> Bool { all.contains(lowercasedPassword) }

    /// How many entries were loaded (0: the resource is missing — start-up refuses that).
    static var count: Int { all.count }

    private static func load() -> Set<String> {
        guard let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt"),
              let data = try? Data(contentsOf: url)
        else { return [] }
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
    }
}
