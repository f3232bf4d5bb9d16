import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Anti-CSRF tokens for cookie-authenticated writes (DESIGN.md §6): signed, bound to one
/// session, made and checked with the service's keyring (see `CSRFToken`).
public struct CSRFTokens: Sendable {
    let keyring: Keyring

    /// A fresh token for a session.
    public func make(for sessionID: UUID) throws -> String {
        try CSRFToken.make(sessionID: sessionID, keyring: keyring)
    }

    /// True when `token` was made for `sessionID` (constant-time check).
    public func verify(_ token: String, sessionID: UUID) -> Bool {
        CSRFToken.verify(token, sessionID: sessionID, keyring: keyring)
    }
}
