import AuthCrypto

/// `clientDataJSON` (WebAuthn §5.8.1): what the browser says about the ceremony. Only the fields
/// authd checks are read; the JSON is parsed with the same parser as request bodies.
public struct CollectedClientData: Sendable {
    public let type: String
    public let challenge: [UInt8]
    public let origin: String
    public let crossOrigin: Bool
    public let topOrigin: String?

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count <= 64 * 1024, case .object(let o) = try JSONValue.parse(bytes: bytes) else {
            throw Malformed(description: "clientDataJSON is not a JSON object")
        }
        guard let type = o["type"]?.stringValue, let challenge = o["challenge"]?.stringValue.flatMap(WebAuthnBase64.decode),
              let origin = o["origin"]?.stringValue
        else { throw Malformed(description: "clientDataJSON lacks type, challenge or origin") }
        self.type = type
        self.challenge = challenge
        self.origin = origin
        switch o["crossOrigin"] {
        case nil, .null?: crossOrigin = false
        case .bool(let b)?: crossOrigin = b
        default: throw Malformed(description: "crossOrigin is not a boolean")
        }
        topOrigin = o["topOrigin"]?.stringValue
    }
}

/// base64url as WebAuthn JSON carries it: without padding, though padded input is tolerated.
public enum WebAuthnBase64 {
    public static func decode(_ text: String) -> [UInt8]? {
        var trimmed = Substring(text)
        while trimmed.hasSuffix("=") { trimmed = trimmed.dropLast() }
        return Base64URL.decode(String(trimmed))
    }

    public static func encode(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }
}
