import COpenSSL
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One up-only migration file: `YYYYMMDDHHMMSS_verb_object.sql`, first line `-- why`.
public struct PGMigration: Sendable, Equatable {
    /// The 14-digit timestamp that orders migrations.
    public let version: String
    /// The file name without extension, e.g. `20261129120000_create_tenants`.
    public let name: String
    public let sql: String
    /// Hex SHA-256 of the file's bytes, recorded when applied and checked on every run.
    public let checksum: String

    /// Parses a migration from its file name and contents.
    public init(fileName: String, sql: String) throws {
        guard let name = Self.validName(fileName) else {
            throw PGError(.migration, "migration file name \(fileName) does not match YYYYMMDDHHMMSS_verb_object.sql")
        }
        guard sql.hasPrefix("--") else {
            throw PGError(.migration, "migration \(fileName) must start with a `-- why` comment line")
        }
        self.name = name
        self.version = String(name.prefix(14))
        self.sql = sql
        self.checksum = Self.sha256Hex(Array(sql.utf8))
    }

    /// Loads every `*.sql` file of a directory, ordered by version; duplicates are refused.
    public static func load(directory: String) throws -> [PGMigration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }
        } catch {
            throw PGError(.migration, "cannot read migrations directory \(directory): \(error)")
        }
        var migrations: [PGMigration] = []
        for file in names.sorted() {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file) else {
                throw PGError(.migration, "cannot read \(directory)/\(file)")
            }
            migrations.append(try PGMigration(fileName: file, sql: String(decoding: data, as: UTF8.self)))
        }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw PGError(.migration, "two migrations share version \(a.version): \(a.name), \(b.name)")
        }
        return migrations
    }

    /// `YYYYMMDDHHMMSS_verb_object.sql` → name without `.sql`; nil when malformed.
    static func validName(_ fileName: String) -> String? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let name = String(fileName.dropLast(4))
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].count == 14, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber)
        else { return nil }
        for word in parts.dropFirst() {
            guard !word.isEmpty, word.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }) else { return nil }
        }
        return name
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
        }
        return digest.map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined()
    }
}
