import Crypto

/// A credential public key in COSE form (RFC 9052/9053), the two kinds authd accepts: ES256
/// (EC2, P-256) and EdDSA (OKP, Ed25519). Anything else is refused at registration.
public enum COSEKey: Sendable, Equatable {
    case es256(x: [UInt8], y: [UInt8])
    case ed25519(x: [UInt8])

    public struct UnsupportedKey: Error, CustomStringConvertible {
        public let description: String
    }

    /// COSE algorithm identifiers.
    public static let algES256 = -7
    public static let algEdDSA = -8
    /// RFC 9864's fully specified Ed25519.
    public static let algEd25519 = -19

    public init(_ cbor: CBOR) throws {
        guard let kty = cbor[1]?.int, let alg = cbor[3]?.int else { throw UnsupportedKey(description: "COSE key without kty or alg") }
        switch (kty, alg) {
        case (2, Self.algES256):
            guard cbor[-1]?.int == 1, case .bytes(let x)? = cbor[-2], case .bytes(let y)? = cbor[-3], x.count == 32, y.count == 32 else {
                throw UnsupportedKey(description: "ES256 key must be P-256 with 32-byte coordinates")
            }
            // Refuses points not on the curve now rather than at the first login.
            guard (try? P256.Signing.PublicKey(rawRepresentation: x + y)) != nil else {
                throw UnsupportedKey(description: "ES256 key is not a point on P-256")
            }
            self = .es256(x: x, y: y)
        case (1, Self.algEdDSA), (1, Self.algEd25519):
            guard cbor[-1]?.int == 6, case .bytes(let x)? = cbor[-2], x.count == 32 else {
                throw UnsupportedKey(description: "EdDSA key must be Ed25519 with a 32-byte x")
            }
            self = .ed25519(x: x)
        default:
            throw UnsupportedKey(description: "unsupported COSE key (kty \(kty), alg \(alg)); ES256 and EdDSA are accepted")
        }
    }

    /// The COSE algorithm, as stored.
    public var algorithm: Int {
        switch self {
        case .es256: Self.algES256
        case .ed25519: Self.algEdDSA
        }
    }

    /// The key as stored: its canonical COSE encoding's fields, compactly (algorithm + raw key).
    public var raw: [UInt8] {
        switch self {
        case .es256(let x, let y): x + y
        case .ed25519(let x): x
        }
    }

    /// Rebuilds a stored key.
    public init?(algorithm: Int, raw: [UInt8]) {
        switch algorithm {
        case Self.algES256 where raw.count == 64: self = .es256(x: Array(raw[0..<32]), y: Array(raw[32..<64]))
        case Self.algEdDSA where raw.count == 32: self = .ed25519(x: raw)
        default: return nil
        }
    }

    /// Whether `signature` (DER for ES256, 64 raw bytes for Ed25519) signs `data`.
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        switch self {
        case .es256(let x, let y):
            guard let key = try? P256.Signing.PublicKey(rawRepresentation: x + y),
                  let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(sig, for: data)
        case .ed25519(let x):
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x), signature.count == 64 else { return false }
            return key.isValidSignature(signature, for: data)
        }
    }
}
