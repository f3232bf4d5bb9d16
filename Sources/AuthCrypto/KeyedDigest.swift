import Crypto

/// HMAC-SHA-256 under a key derived from the keyring's current key for one purpose: a lookup
/// key that names an e-mail address or IP without storing it, and that nobody without the
/// keyring can recompute from a guessed address (a plain SHA-256 of an e-mail can be).
public struct KeyedDigest: Sendable {
    private let key: SymmetricKey

    public init(keyring: Keyring, purpose: String) {
        self.init(key: keyring.current, purpose: purpose)
    }

    /// Under one key of the ring (to check digests made before a rotation).
    public init(key: Keyring.Key, purpose: String) {
        self.key = SecretSealer.derive(material: key.material, "authd keyed digest: " + purpose)
    }

    /// The digest of `parts`, each length-prefixed (so `("ab","c")` and `("a","bc")` differ), in hex.
    public func hex(_ parts: [String]) -> String {
        var message: [UInt8] = []
        for part in parts {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message.append(contentsOf: $0) }
            message.append(contentsOf: bytes)
        }
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return mac.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]], as: UTF8.self)
        }.joined()
    }
}
