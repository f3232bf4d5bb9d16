#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Tokens whose signature has been checked, with their claims: a client sends the same token
/// for minutes, and an Ed25519 verification per request cost the example backend 4 of every 5
/// requests it could otherwise answer (`make bench`). Only the signature is remembered — the
/// expiry, MFA state and revocation are checked on every request, and a hit counts only while
/// the signing key is still in the JWKS. Keyed by the whole token, so a hit is exactly the
/// bytes that were verified.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: (claims: AuthClaims, kid: String)]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The claims of a token checked before, while the key that signed it is still published.
    func claims(for token: String, published: Set<String>) -> AuthClaims? {
        guard let entry = entries.withLock({ $0[token] }), published.contains(entry.kid) else { return nil }
        return entry.claims
    }

    func insert(_ claims: AuthClaims, kid: String, for token: String) {
        entries.withLock { entries in
            if entries.count >= capacity {
                let now = Date()
                entries = entries.filter { $0.value.claims.expiresAt > now }
                // Still full of live tokens: start over rather than track recency on every hit.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = (claims, kid)
        }
    }
}
