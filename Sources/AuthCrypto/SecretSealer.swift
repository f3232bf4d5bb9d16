import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encrypts secrets that must be read back (signing keys, TOTP secrets, one-time codes in
/// events) with AES-256-GCM under a key derived by HKDF from the keyring's current key, one
/// label per purpose. The associated data binds a ciphertext to its row (tenant, table, id,
/// purpose), so ciphertexts cannot be swapped between rows. The output names its key id, so
/// the keyring can rotate: old ciphertexts open with the old key as long as the ring keeps it.
///
/// Format: `0x01 | len(keyId) | keyId | nonce(12) | ciphertext | tag(16)`.
public struct SecretSealer: Sendable {
    public let keyring: Keyring

    public init(keyring: Keyring) {
        self.keyring = keyring
    }

    /// Seals `plaintext` for `purpose`, bound to `associatedData`.
    public func seal(_ plaintext: [UInt8], purpose: String, associatedData: [UInt8]) throws -> [UInt8] {
        let key = keyring.current
        let box = try AES.GCM.seal(plaintext, using: Self.derive(key, purpose), authenticating: associatedData)
        guard let combined = box.combined else { throw CryptoError.sealFailed }
        let id = Array(key.id.utf8)
        return [1, UInt8(id.count)] + id + Array(combined)
    }

    /// Opens a sealed value; throws when the key is unknown, or the data or binding was altered.
    public func open(_ sealed: [UInt8], purpose: String, associatedData: [UInt8]) throws -> [UInt8] {
        guard sealed.count > 2, sealed[0] == 1 else { throw CryptoError.sealFailed }
        let idLength = Int(sealed[1])
        guard sealed.count > 2 + idLength + 28 else { throw CryptoError.sealFailed }
        let id = String(decoding: sealed[2..<(2 + idLength)], as: UTF8.self)
        guard let key = keyring.key(id: id) else { throw CryptoError.unknownKey(id) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[(2 + idLength)...])
            return Array(try AES.GCM.open(box, using: Self.derive(key, purpose), authenticating: associatedData))
        } catch {
            // Wrong key material under the same id, or altered data: one error for callers.
            throw CryptoError.sealFailed
        }
    }

    /// A purpose-specific 256-bit key from a keyring key (also used for HMAC tags).
    public static func derive(_ key: Keyring.Key, _ purpose: String) -> SymmetricKey {
        derive(material: key.material, purpose)
    }

    static func derive(material: [UInt8], _ purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: material), salt: Array("authd v1".utf8),
            info: Array(purpose.utf8), outputByteCount: 32)
    }
}
