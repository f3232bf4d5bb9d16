import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One access-token signing key as loaded from `auth.signing_keys`.
public struct SigningKey: Sendable {
    public let kid: String
    public let publicKey: Curve25519.Signing.PublicKey
    /// Present for keys this process may sign with.
    public let privateKey: Curve25519.Signing.PrivateKey?
    /// When it starts signing; nil for the next key (published, not yet scheduled).
    public let activatesAt: Date?
    public let retiresAt: Date?

    /// Signs from `activatesAt` until a newer key activates.
    public func isActive(at now: Date) -> Bool {
        guard let activatesAt else { return false }
        return activatesAt <= now && (retiresAt == nil || now < retiresAt!)
    }

    /// Verifies (and is published in JWKS) until `retiresAt`.
    public func verifies(at now: Date) -> Bool { retiresAt == nil || now < retiresAt! }

    /// The JWK (RFC 8037 OKP) of the public key.
    public var jwk: JSONObject {
        [
            "kty": .string("OKP"), "crv": .string("Ed25519"), "kid": .string(kid), "alg": .string("EdDSA"),
            "use": .string("sig"), "x": .string(Base64URLText.encode(Array(publicKey.rawRepresentation))),
        ]
    }
}

/// URL-safe unpadded base64 for JWKs.
enum Base64URLText {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
