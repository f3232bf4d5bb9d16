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

    static let tagPurpose = "refresh-token-tag"
    private static let sealPurpose = "authd refresh seal v1"

    /// Mints a token for a session generation, tagged with the keyring's current key.
    public static func mint(tenantID: UUID, sessionID: UUID, generation: Int, keyring: Keyring) throws -> RefreshToken {
        let key = keyring.current
        let random = Base64URL.encode(try SecureRandom.bytes(32))
        let body = "rt1.\(key.id).\(hex(tenantID)).\(hex(sessionID)).\(generation).\(random)"
        let tag = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: key.refreshTagKey)
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
        guard HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: Array(body.utf8), using: key.refreshTagKey)
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
        let digits = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 32) { out in
                for (i, b) in bytes.enumerated() {
                    out[2 * i] = digits[Int(b >> 4)]
                    out[2 * i + 1] = digits[Int(b & 0xF)]
                }
                return 32
            }
        }
    }

    static func uuid(fromHex hex: Substring) -> UUID? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 {
            guard let hi = nibble(utf8[2 * i]), let lo = nibble(utf8[2 * i + 1]) else { return nil }
            bytes[i] = hi << 4 | lo
        }
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
