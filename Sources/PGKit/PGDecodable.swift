#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Swift type that can be read from a column's text representation.
public protocol PGDecodable: Sendable {
    /// Decodes a non-NULL value; returns nil when the text is not a valid value of this type.
    init?(pgText: String)
}

extension String: PGDecodable {
    public init?(pgText: String) { self = pgText }
}

extension Int: PGDecodable {
    public init?(pgText: String) { self.init(pgText) }
}

extension Int64: PGDecodable {
    public init?(pgText: String) { self.init(pgText) }
}

extension Int32: PGDecodable {
    public init?(pgText: String) { self.init(pgText) }
}

extension Double: PGDecodable {
    public init?(pgText: String) { self.init(pgText) }
}

extension Bool: PGDecodable {
    public init?(pgText: String) {
        switch pgText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension UUID: PGDecodable {
    public init?(pgText: String) { self.init(uuidString: pgText) }
}

extension Date: PGDecodable {
    public init?(pgText: String) {
        guard let date = PGText.parseTimestamp(pgText) else { return nil }
        self = date
    }
}

extension Array: PGDecodable where Element == String {
    /// Decodes a text array; NULL elements are not representable and fail the decode.
    public init?(pgText: String) {
        guard let items = PGText.parseArray(pgText), !items.contains(where: { $0 == nil }) else { return nil }
        self = items.compactMap { $0 }
    }
}

/// The bytes of a `bytea` column (PostgreSQL's `hex` output format).
public struct PGBytes: PGDecodable, Equatable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init?(pgText: String) {
        guard let bytes = PGText.parseBytea(pgText) else { return nil }
        self.bytes = bytes
    }
}
