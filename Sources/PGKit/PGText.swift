#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Conversions between Swift values and PostgreSQL's text representations.
///
/// Connections run with `TimeZone=UTC` and `DateStyle=ISO` (set at connect), so timestamps come
/// back as `YYYY-MM-DD HH:MM:SS[.ffffff]+00`; the parser still honours any offset it is given.
enum PGText {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hexBytea(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: 2 + bytes.count * 2)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        for (i, b) in bytes.enumerated() {
            out[2 + 2 * i] = hexDigits[Int(b >> 4)]
            out[3 + 2 * i] = hexDigits[Int(b & 0xF)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func parseBytea(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"),
              utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `{"a","b\"c"}`: every element quoted, so commas, braces and the word NULL stay data.
    static func arrayLiteral(_ items: [String]) -> String {
        var s = "{"
        for (i, item) in items.enumerated() {
            if i > 0 { s += "," }
            s += "\""
            for ch in item {
                if ch == "\"" || ch == "\\" { s.append("\\") }
                s.append(ch)
            }
            s += "\""
        }
        return s + "}"
    }

    /// Parses a one-dimensional text array as PostgreSQL prints it; NULL elements are dropped
    /// only if `keepNulls` is false.
    static func parseArray(_ text: String) -> [String?]? {
        var chars = Array(text)
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = Array(chars.dropFirst().dropLast())
        var items: [String?] = []
        var i = 0
        if chars.isEmpty { return [] }
        while i <= chars.count {
            var item = ""
            var quoted = false
            if i < chars.count, chars[i] == "\"" {
                quoted = true
                i += 1
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    item.append(chars[i])
                    i += 1
                }
                i += 1  // closing quote
            } else {
                while i < chars.count, chars[i] != "," {
                    item.append(chars[i])
                    i += 1
                }
            }
            items.append(!quoted && item == "NULL" ? nil : item)
            guard i < chars.count else { break }
            guard chars[i] == "," else { return nil }
            i += 1
        }
        return items
    }

    static func formatTimestamp(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var seconds = time_t(floor(micros / 1_000_000))
        let fraction = Int(micros - Double(seconds) * 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let frac = String(fraction)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - frac.count) + frac + "+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.f+][±HH[:MM[:SS]]]` (ISO DateStyle output).
    static func parseTimestamp(_ text: String) -> Date? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= u.count else { return nil }
            var v = 0
            for c in u[from..<from + len] {
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard u.count >= 19, let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
              let hour = num(11, 2), let minute = num(14, 2), let second = num(17, 2) else { return nil }
        var i = 19
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = num(i + 1, 2) else { return nil }
            var secs = oh * 3600
            if i + 3 < u.count, u[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2) { secs += om * 60 }
            offset = sign * secs
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }
}
