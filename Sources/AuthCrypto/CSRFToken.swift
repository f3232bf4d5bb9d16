import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Anti-CSRF tokens for cookie-authenticated writes (DESIGN.md §6): a signed double-submit token
/// bound to one session, `<key id>.<random>.<tag>`, the tag an HMAC of the session id and the
/// random part under a key derived from the keyring. A page of another origin can neither read the
/// cookie or answer that carries it nor forge one, and a token of one session is worthless for
/// another (a cookie planted by a sibling subdomain does not help an attacker).
public enum CSRFToken {
    static let purpose = "csrf-token v1"

    /// A fresh token for `sessionID`, tagged with the keyring's current key.
    public static func make(sessionID: UUID, keyring: Keyring) throws -> String {
        let key = keyring.current
        let random = Base64URL.encode(try SecureRandom.bytes(18))
        return "\(key.id).\(random).\(tag(key, sessionID: sessionID, random: random))"
    }

    /// True when `token` was made for `sessionID` with a key of the ring (constant-time check).
    public static func verify(_ token: String, sessionID: UUID, keyring: Keyring) -> Bool {
        guard token.utf8.count <= 128 else { return false }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let key = keyring.key(id: String(parts[0])), let presented = Base64URL.decode(String(parts[2]))
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            presented, authenticating: message(sessionID: sessionID, random: String(parts[1])), using: SecretSealer.derive(key, purpose))
    }

    private static func tag(_ key: Keyring.Key, sessionID: UUID, random: String) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(
            for: message(sessionID: sessionID, random: random), using: SecretSealer.derive(key, purpose))))
    }

    private static func message(sessionID: UUID, random: String) -> [UInt8] {
        Array("csrf1.\(sessionID.uuidString.lowercased()).\(random)".utf8)
    }
}
