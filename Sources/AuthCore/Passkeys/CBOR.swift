/// A CBOR value (RFC 8949), as much of it as WebAuthn uses: attestation objects and COSE keys.
public indirect enum CBOR: Sendable, Equatable {
    case unsigned(UInt64)
    /// Major type 1: the value is -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Pairs in wire order (keys may be integers or text).
    case map([(CBOR, CBOR)])
    case bool(Bool)
    case null

    public static func == (a: CBOR, b: CBOR) -> Bool {
        switch (a, b) {
        case (.unsigned(let x), .unsigned(let y)), (.negative(let x), .negative(let y)): x == y
        case (.bytes(let x), .bytes(let y)): x == y
        case (.text(let x), .text(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    /// The integer value of major types 0 and 1, when it fits.
    public var int: Int? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int.max) ? Int(n) : nil
        case .negative(let n): n < UInt64(Int.max) ? -1 - Int(n) : nil
        default: nil
        }
    }

    /// The value under an integer key of a map.
    public subscript(key: Int) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.0.int == key }?.1
    }

    /// The value under a text key of a map.
    public subscript(key: String) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.0 == .text(key) }?.1
    }
}

/// A strict decoder: definite lengths only (CTAP2 canonical form has no indefinite ones), no
/// tags, no floats, no duplicate map keys, nesting at most 16 deep, lengths bounded by the input.
/// Anything else is a `CBORError`, never a crash.
public struct CBORDecoder {
    public struct CBORError: Error, CustomStringConvertible {
        public let description: String
    }

    private let bytes: [UInt8]
    private(set) var offset: Int
    static let maxDepth = 16
    static let maxItems = 64

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Decodes exactly one value covering all of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws -> CBOR {
        var decoder = CBORDecoder(bytes)
        let value = try decoder.next()
        guard decoder.offset == bytes.count else { throw CBORError(description: "trailing bytes after the value") }
        return value
    }

    /// Decodes one value starting at `offset`; returns it and where it ended (authenticator
    /// data carries a COSE key followed by other bytes).
    public static func decodePrefix(_ bytes: [UInt8], at offset: Int) throws -> (CBOR, end: Int) {
        var decoder = CBORDecoder(bytes, offset: offset)
        let value = try decoder.next()
        return (value, decoder.offset)
    }

    mutating func next(depth: Int = 0) throws -> CBOR {
        guard depth < Self.maxDepth else { throw CBORError(description: "nested too deeply") }
        let initial = try byte()
        let major = initial >> 5
        let info = initial & 0x1f
        if major == 7 {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            default: throw CBORError(description: "unsupported simple value or float (\(info))")
            }
        }
        let argument = try self.argument(info)
        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2: return .bytes(try take(argument))
        case 3:
            guard let text = String(validating: try take(argument), as: UTF8.self) else {
                throw CBORError(description: "text is not UTF-8")
            }
            return .text(text)
        case 4:
            let count = try bounded(argument)
            guard count <= Self.maxItems else { throw CBORError(description: "array of more than \(Self.maxItems) items") }
            var items: [CBOR] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try next(depth: depth + 1)) }
            return .array(items)
        case 5:
            let count = try bounded(argument)
            // WebAuthn's maps are small; a cap also bounds the duplicate-key scan.
            guard count <= Self.maxItems else { throw CBORError(description: "map of more than \(Self.maxItems) entries") }
            var pairs: [(CBOR, CBOR)] = []
            pairs.reserveCapacity(count)
            for _ in 0..<count {
                let key = try next(depth: depth + 1)
                guard !pairs.contains(where: { $0.0 == key }) else { throw CBORError(description: "duplicate map key") }
                pairs.append((key, try next(depth: depth + 1)))
            }
            return .map(pairs)
        default:
            throw CBORError(description: "tags are not accepted")
        }
    }

    private mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw CBORError(description: "truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func argument(_ info: UInt8) throws -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24: return UInt64(try byte())
        case 25, 26, 27:
            let width = 1 << (info - 24)
            var value: UInt64 = 0
            for _ in 0..<width { value = value << 8 | UInt64(try byte()) }
            return value
        default: throw CBORError(description: "indefinite or reserved length")
        }
    }

    /// A count of items: each takes at least one byte, so more than what is left is malformed.
    private func bounded(_ n: UInt64) throws -> Int {
        guard n <= UInt64(bytes.count - offset) else { throw CBORError(description: "length beyond the input") }
        return Int(n)
    }

    private mutating func take(_ n: UInt64) throws -> [UInt8] {
        let count = try bounded(n)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
