/// Authenticator data (WebAuthn §6.1): rpIdHash, flags, signature counter, and at registration
/// the attested credential (AAGUID, credential id, COSE public key). Parsed strictly: every byte
/// accounted for, lengths checked before use.
public struct AuthenticatorData: Sendable {
    public let bytes: [UInt8]
    public let rpIDHash: [UInt8]
    public let flags: UInt8
    public let signCount: UInt32
    public let attested: AttestedCredential?

    public struct AttestedCredential: Sendable {
        public let aaguid: [UInt8]
        public let credentialID: [UInt8]
        public let publicKey: COSEKey
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public var userPresent: Bool { flags & 0x01 != 0 }
    public var userVerified: Bool { flags & 0x04 != 0 }
    public var backupEligible: Bool { flags & 0x08 != 0 }
    public var backedUp: Bool { flags & 0x10 != 0 }
    var hasAttestedCredential: Bool { flags & 0x40 != 0 }
    var hasExtensions: Bool { flags & 0x80 != 0 }

    /// Credential ids are at most 1023 bytes (§5.8.4 of Level 3).
    public static let maxCredentialIDLength = 1023

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 37 else { throw Malformed(description: "authenticator data shorter than 37 bytes") }
        self.bytes = bytes
        rpIDHash = Array(bytes[0..<32])
        flags = bytes[32]
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        var offset = 37
        if flags & 0x40 != 0 {
            guard bytes.count >= offset + 18 else { throw Malformed(description: "attested credential data truncated") }
            let aaguid = Array(bytes[offset..<offset + 16])
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard length > 0, length <= Self.maxCredentialIDLength, bytes.count >= offset + length else {
                throw Malformed(description: "credential id length out of range")
            }
            let credentialID = Array(bytes[offset..<offset + length])
            offset += length
            let (cose, end) = try CBORDecoder.decodePrefix(bytes, at: offset)
            offset = end
            attested = AttestedCredential(aaguid: aaguid, credentialID: credentialID, publicKey: try COSEKey(cose))
        } else {
            attested = nil
        }
        if flags & 0x80 != 0 {
            let (extensions, end) = try CBORDecoder.decodePrefix(bytes, at: offset)
            guard case .map = extensions else { throw Malformed(description: "extensions are not a map") }
            offset = end
        }
        guard offset == bytes.count else { throw Malformed(description: "trailing bytes in authenticator data") }
        // A credential cannot be backed up without being eligible for it (§6.1.3).
        guard backupEligible || !backedUp else { throw Malformed(description: "backed up but not backup eligible") }
    }
}
