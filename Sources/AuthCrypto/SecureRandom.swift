import COpenSSL

/// Bytes from OpenSSL's CSPRNG (`RAND_bytes`), for tokens, salts and keys.
public enum SecureRandom {
    /// `count` random bytes; throws only if the CSPRNG cannot be seeded.
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&out, Int32(count)) == 1 else { throw CryptoError.randomUnavailable }
        return out
    }
}

/// Failures of the crypto primitives.
public enum CryptoError: Error, Sendable, Equatable {
    case randomUnavailable
    case invalidKeyring(String)
    case hashingFailed(String)
    case sealFailed
    case unknownKey(String)
    /// The password hasher's queue is full: answer 503 at once rather than wait behind it.
    case overloaded
}
