import Crypto

/// The service's master secrets (`AUTH_SECRET_KEY`): comma-separated `id:base64` entries, each at
/// least 32 random bytes; the first is current, the others are kept to read older ciphertexts
/// (DESIGN.md §6). Every ciphertext and tag names the key id it was made with.
public struct Keyring: Sendable, CustomStringConvertible {
    /// One key of the ring.
    public struct Key: Sendable {
        public let id: String
        public let material: [UInt8]
        /// The refresh-token tag key, derived once (an HKDF per token would cost more than the HMAC).
        let refreshTagKey: SymmetricKey

        init(id: String, material: [UInt8]) {
            self.id = id
            self.material = material
            refreshTagKey = SecretSealer.derive(material: material, RefreshToken.tagPurpose)
        }
    }

    /// The minimum key length in bytes.
    public static let minimumKeyLength = 32

    public let keys: [Key]

    /// The key new secrets are made with.
    public var current: Key { keys[0] }

    /// Parses `id:base64[,id:base64…]`; throws with a message fit for a start-up error.
    public init(parsing text: String) throws {
        var keys: [Key] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: " \n\t") }) where !entry.isEmpty {
            guard let colon = entry.firstIndex(of: ":") else {
                throw CryptoError.invalidKeyring("each entry must be id:base64 (entry \(keys.count + 1) has no ':')")
            }
            let id = String(entry[..<colon])
            guard !id.isEmpty, id.count <= 32, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw CryptoError.invalidKeyring("key id must be 1–32 letters, digits, '-' or '_'")
            }
            guard let material = Base64.decode(String(entry[entry.index(after: colon)...])) else {
                throw CryptoError.invalidKeyring("key \(id) is not valid base64")
            }
            guard material.count >= Self.minimumKeyLength else {
                throw CryptoError.invalidKeyring("key \(id) has \(material.count) bytes; at least \(Self.minimumKeyLength) random bytes are required")
            }
            guard !keys.contains(where: { $0.id == id }) else {
                throw CryptoError.invalidKeyring("key id \(id) appears twice")
            }
            keys.append(Key(id: id, material: material))
        }
        guard !keys.isEmpty else { throw CryptoError.invalidKeyring("no keys given") }
        self.keys = keys
    }

    /// A fresh single-key ring (development only: nothing encrypted with it survives a restart).
    public static func ephemeral() throws -> Keyring {
        try Keyring(parsing: "ephemeral:" + Base64.encode(try SecureRandom.bytes(32)))
    }

    /// The key with this id, if the ring has it.
    public func key(id: String) -> Key? { keys.first { $0.id == id } }

    /// Never prints key material.
    public var description: String { "Keyring(\(keys.map(\.id).joined(separator: ",")))" }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
