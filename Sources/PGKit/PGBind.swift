#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One `$n` parameter: its type OID and its text representation (`nil` is SQL NULL).
///
/// Everything is sent in text format with an explicit type OID, so the server parses the value
/// as that type and never has to guess; values never become part of the SQL text.
public struct PGBind: Sendable, Equatable {
    public var oid: UInt32
    public var text: String?

    public init(oid: UInt32, text: String?) {
        self.oid = oid
        self.text = text
    }

    /// SQL NULL typed as `oid` (text when unknown).
    public static func null(_ oid: UInt32 = PGOID.text) -> PGBind { PGBind(oid: oid, text: nil) }

    /// A `jsonb` parameter from JSON text (validated by the server).
    public static func jsonb(_ json: String) -> PGBind { PGBind(oid: PGOID.jsonb, text: json) }

    /// A `bytea` parameter.
    public static func bytea(_ bytes: [UInt8]) -> PGBind { PGBind(oid: PGOID.bytea, text: PGText.hexBytea(bytes)) }
}

/// A Swift value that can be sent as a `$n` parameter.
public protocol PGEncodable: Sendable {
    var pgBind: PGBind { get }
}

extension PGBind: PGEncodable {
    public var pgBind: PGBind { self }
}

extension String: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.text, text: self) }
}

extension Int: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.int8, text: String(self)) }
}

extension Int64: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.int8, text: String(self)) }
}

extension Int32: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.int4, text: String(self)) }
}

extension Double: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.float8, text: String(self)) }
}

extension Bool: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.bool, text: self ? "t" : "f") }
}

extension UUID: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.uuid, text: uuidString.lowercased()) }
}

extension Date: PGEncodable {
    public var pgBind: PGBind { PGBind(oid: PGOID.timestamptz, text: PGText.formatTimestamp(self)) }
}

extension Array: PGEncodable where Element == String {
    public var pgBind: PGBind { PGBind(oid: PGOID.textArray, text: PGText.arrayLiteral(self)) }
}

extension Optional: PGEncodable where Wrapped: PGEncodable {
    public var pgBind: PGBind {
        switch self {
        case .some(let value): value.pgBind
        case .none: PGBind(oid: Wrapped.nullOID, text: nil)
        }
    }
}

extension PGEncodable {
    /// The OID a NULL of this type is sent as: the type of a non-NULL value where it has a fixed
    /// one, so `$1` keeps the same type whether or not the value is present.
    static var nullOID: UInt32 {
        switch self {
        case is String.Type: PGOID.text
        case is Int.Type, is Int64.Type: PGOID.int8
        case is Int32.Type: PGOID.int4
        case is Double.Type: PGOID.float8
        case is Bool.Type: PGOID.bool
        case is UUID.Type: PGOID.uuid
        case is Date.Type: PGOID.timestamptz
        case is [String].Type: PGOID.textArray
        default: 0  // unknown: let the server infer it from context
        }
    }
}
