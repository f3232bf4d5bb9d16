#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value: user metadata, session data, custom token claims and hook payloads, kept
/// typed without `Any`.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The members of an object (empty for anything else).
    public var objectValue: [String: JSONValue] {
        if case .object(let o) = self { return o }
        return [:]
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var intValue: Int? {
        if case .int(let n) = self { return n }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public subscript(key: String) -> JSONValue? { objectValue[key] }

    /// Compact JSON text (sorted keys, so equal values give equal text).
    public var jsonText: String { JSONWriter.write(self) }

    /// Parses JSON text (strict RFC 8259, nesting bounded).
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text)
    }

    /// Parses JSON bytes.
    public static func parse(bytes: [UInt8]) throws -> JSONValue {
        try JSONParser.parse(bytes: bytes)
    }
}

/// A JSON object.
public typealias JSONObject = [String: JSONValue]
