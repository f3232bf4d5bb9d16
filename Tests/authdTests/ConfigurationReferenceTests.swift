#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import Testing

/// Issue 21 item 6: the README's configuration table and the configuration reader agree — an
/// option authd reads cannot be left undocumented, and a documented option must be read.
/// The reader's keys are the `"auth.…"` literals it asks `ConfigReader` for (and the few
/// `AUTH_…` variables read from the environment directly), found in `Sources/authd`.
@Suite struct ConfigurationReferenceTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every variable the sources read, as its environment name.
    static func read() throws -> Set<String> {
        let folder = repo.appendingPathComponent("Sources/authd")
        var names: Set<String> = []
        let keyLiteral = try Regex(#""(auth(?:\.[a-z0-9]+)+)""#)
        let envLiteral = try Regex(#"\["(AUTH_[A-Z0-9_]+)"\]"#)
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: keyLiteral) {
                guard let key = match.output[1].substring.map(String.init) else { continue }
                // A scope, not an option: `auth.config.file` holds the file provider's keys.
                if key == "auth.config.file" { continue }
                names.insert(key.uppercased().replacingOccurrences(of: ".", with: "_"))
            }
            for match in text.matches(of: envLiteral) {
                if let name = match.output[1].substring { names.insert(String(name)) }
            }
        }
        return names
    }

    /// The names in the first column of the README's configuration table; `<ACTION>` stands
    /// for any upper-case word.
    static func documented() throws -> [String] {
        let readme = try String(contentsOf: repo.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "## Configuration\n"), let end = readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex)
        else { return [] }
        var names: [String] = []
        let name = try Regex(#"`(AUTH_[A-Z0-9_<>]+)`"#)
        for line in readme[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `AUTH_") {
            let firstCell = line.dropFirst(2).prefix { $0 != "|" }
            for match in firstCell.matches(of: name) {
                if let n = match.output[1].substring { names.append(String(n)) }
            }
        }
        return names
    }

    @Test func everyOptionReadIsDocumentedAndEveryDocumentedOptionIsRead() throws {
        let read = try Self.read()
        let documented = try Self.documented()
        #expect(read.count > 50, "the scan found only \(read.count) options")
        let patterns = try documented.filter { $0.contains("<") }.map { pattern in
            try Regex("^" + pattern.replacing(try Regex("<[A-Z]+>"), with: "[A-Z_]+") + "$")
        }
        let literal = Set(documented.filter { !$0.contains("<") })
        let undocumented = read.filter { name in !literal.contains(name) && !patterns.contains { name.wholeMatch(of: $0) != nil } }
        #expect(undocumented.sorted() == [], "options authd reads that the README's configuration table does not list")
        #expect(literal.subtracting(read).sorted() == [], "options the README lists that authd does not read")
        #expect(patterns.count >= 2, "the rate-limit rows (AUTH_RATE_LIMIT_<ACTION>_PER_IP / _PER_IDENTIFIER) are missing")
    }
}
