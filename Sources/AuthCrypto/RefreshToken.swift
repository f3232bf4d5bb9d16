import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An opaque refresh token (DESIGN.md §6): `body.tag`, where the body names the tag key, the
/// tenant, the session and the generation, plus 32 random bytes, and the tag is an HMAC of the
/// body under a key derived from the keyring. Only SHA-256 of the body is stored.
///
/// `rt1.<keyId>.<tenant hex>.<session hex>.<generation>.<random b64url>.<tag b64url>`
public struct RefreshToken: Sendable, Equatable {
    public let keyID: String
    public let tenantID: UUID
    public let sessionID: UUID
    public let generation: Int
    /// Everything before the tag: what is digested, tagged, and sealed against.
    public let body: String
    /// The full token as the client holds it.
    public let value: String

    private static let tagPurpose = "refresh-token-tag"
    private static let sealPurpose = "authd refresh seal v1"

    /// Mints a token for a session generation, tagged with the keyring's current key.
    public static func mint(tenantID: UUID, sessionID: UUID, generation: Int, keyring: Keyring) throws -> RefreshToken {
        let key = keyring.current
        let random = Base64URL.encode(try SecureRandom.bytes(32))
        let body = "rt1.\(key.id).\(hex(tenantID)).\(hex(sessionID)).\(generation).\(random)"
        let tag = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SecretSealer.derive(key, tagPurpose))
        return RefreshToken(
            keyID: key.id, tenantID: tenantID, sessionID: sessionID, generation: generation, body: body,
            value: body + "." + Base64URL.encode(Array(tag)))
    }

    /// Parses and checks the tag (constant time). Nil for anything malformed, tagged with an
    /// unknown key, or whose tag fails: such a token is answered without touching the database.
    public static func verify(_ value: String, keyring: Keyring) -> RefreshToken? {
        guard value.utf8.count < 512 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "rt1",
              let key = keyring.key(id: String(parts[1])),
              let tenant = uuid(fromHex: parts[2]), let session = uuid(fromHex: parts[3]),
              let generation = Int(parts[4]), generation >= 0,
              let random = Base64URL.decode(String(parts[5])), random.count == 32,
              let tag = Base64URL.decode(String(parts[6])), tag.count == 32
        else { return nil }
        let body = parts[0..<6].joined(separator: ".")
        guard HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: Array(body.utf8), using: SecretSealer.derive(key, tagPurpose))
        else { return nil }
        return RefreshToken(keyID: key.id, tenantID: tenant, sessionID: session, generation: generation, body: body, value: value)
    }

    /// SHA-256 of the body: what the session row stores.
    public var digest: [UInt8] { Array(SHA256.hash(data: Array(body.utf8))) }

    /// Seals `next` (the token that replaced this one) under a key derived from this token's
    /// body itself, so only a holder of this token can recover `next` — a database dump cannot.
    public func seal(next: RefreshToken) throws -> [UInt8] {
        let box = try AES.GCM.seal(Array(next.value.utf8), using: sealingKey)
        guard let combined = box.combined else { throw CryptoError.sealFailed }
        return Array(combined)
    }

    /// Opens what `seal(next:)` produced with this token.
    public func unseal(_ sealed: [UInt8]) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        return String(decoding: try AES.GCM.open(box, using: sealingKey), as: UTF8.self)
    }

    private var sealingKey: SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(body.utf8)), info: Array(Self.sealPurpose.utf8), outputByteCount: 32)
    }

    static func hex(_ id: UUID) -> String {
        String(id.uuidString.lowercased().filter { $0 != "-" })
    }

    static func uuid(fromHex hex: Substring) -> UUID? {
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        let h = Array(hex)
        let s = String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-"
            + String(h[20..<32])
        return UUID(uuidString: s)
    }
}
