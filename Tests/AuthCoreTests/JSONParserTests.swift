import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import Testing

/// The hand-written JSON reader and writer against Foundation's on the same inputs.
@Suite struct JSONParserTests {
    @Test(arguments: [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\n\u00e9\ud83d\ude00"},"n":-1.5e3,"z":0}"#,
        #"[]"#, #"{}"#, #""plain""#, #"[1,2.25,-0,1e2,"x"]"#, #"{"k":"\/path"}"#,
    ])
    func parsesLikeFoundation(_ text: String) throws {
        let ours = try JSONValue.parse(text)
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        // Same values; integral numbers may be Int on one side and Double on the other.
        #expect(numbersAsDoubles(ours) == numbersAsDoubles(foundation))
        // Round trip through the writer.
        #expect(try JSONValue.parse(ours.jsonText) == ours)
    }

    func numbersAsDoubles(_ v: JSONValue) -> JSONValue {
        switch v {
        case .int(let n): .double(Double(n))
        case .array(let a): .array(a.map(numbersAsDoubles))
        case .object(let o): .object(o.mapValues(numbersAsDoubles))
        default: v
        }
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "{'a':1}", "tru", "01", "1.", "\"unterminated", "\"bad \\x escape\"",
        "\"\u{01}\"", "[1] 2", "\"\\ud800\"", "{\"a\" 1}", "NaN",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(text) }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: (any Error).self) { try JSONValue.parse(deep) }
    }

    @Test func writerEscapesControlCharactersAndSortsKeys() throws {
        let value = JSONValue.object(["b": .string("line\nbreak\u{01}"), "a": .int(1)])
        #expect(value.jsonText == #"{"a":1,"b":"line\nbreak\u0001"}"#)
        #expect(try JSONValue.parse(value.jsonText) == value)
    }
}
