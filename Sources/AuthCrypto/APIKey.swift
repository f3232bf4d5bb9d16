import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An API key as `Authorization: ApiKey <public>.<secret>` carries it. The public part,
/// `ak1_<tenant>_<random>`, names the tenant (a request carries no other) and finds the row; the
/// secret is 256 bits from the CSPRNG, stored only as its SHA-256.
public struct APIKey: Sendable, CustomStringConvertible {
    public let tenantID: UUID
    public let publicKey: String
    public let secret: String

    /// A new key of a tenant.
    public static func mint(tenantID: UUID) throws -> APIKey {
        let publicKey = "ak1_\(RefreshToken.hex(tenantID))_\(Base64URL.encode(try SecureRandom.bytes(12)))"
        return APIKey(tenantID: tenantID, publicKey: publicKey, secret: Base64URL.encode(try SecureRandom.bytes(32)))
    }

    private init(tenantID: UUID, publicKey: String, secret: String) {
        self.tenantID = tenantID
        self.publicKey = publicKey
        self.secret = secret
    }

    /// Nil for anything not shaped `ak1_<32 hex>_<random>.<secret>`.
    public init?(parsing text: String) {
        let halves = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 256, halves.count == 2, !halves[1].isEmpty else { return nil }
        let parts = halves[0].split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "ak1", let tenant = RefreshToken.uuid(fromHex: parts[1]), !parts[2].isEmpty else { return nil }
        self.init(tenantID: tenant, publicKey: String(halves[0]), secret: String(halves[1]))
    }

    /// What the client sends after `ApiKey `.
    public var value: String { publicKey + "." + secret }

    /// What is stored for the secret.
    public var secretDigest: [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// True when `digest` is this key's secret digest (constant time).
    public func matches(_ digest: [UInt8]) -> Bool {
        ConstantTime.equals(secretDigest, digest)
    }

    /// Never the secret.
    public var description: String { "APIKey(\(publicKey), secret redacted)" }
}
