import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `prt1.<tenant>.<random>`: the token a verified forgot-password code is exchanged for. 256 bits
/// from the CSPRNG; it names its tenant (reset-password carries no tenant of its own) and is
/// stored only as its SHA-256, so a database dump holds nothing usable.
public struct PasswordResetToken: Sendable, CustomStringConvertible {
    public let tenantID: UUID
    public let value: String

    public static func mint(tenantID: UUID) throws -> PasswordResetToken {
        let random = Base64URL.encode(try SecureRandom.bytes(32))
        return PasswordResetToken(tenantID: tenantID, value: "prt1.\(RefreshToken.hex(tenantID)).\(random)")
    }

    private init(tenantID: UUID, value: String) {
        self.tenantID = tenantID
        self.value = value
    }

    /// Nil for anything not shaped like a reset token.
    public init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 128, parts.count == 3, parts[0] == "prt1", let tenant = RefreshToken.uuid(fromHex: parts[1]),
              let random = Base64URL.decode(String(parts[2])), random.count == 32
        else { return nil }
        self.init(tenantID: tenant, value: text)
    }

    /// What is stored and looked up.
    public var digest: [UInt8] { Array(SHA256.hash(data: Array(value.utf8))) }

    /// Never the token itself.
    public var description: String { "PasswordResetToken(redacted)" }
}
