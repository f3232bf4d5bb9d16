#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import TestSupport
import Testing
@testable import PGKit

/// Binds and decoding of every type PGKit supports, through a real server.
@Suite struct PGValueTests {
    static let db = SuiteDatabase()

    @Test func everyBindTypeRoundTrips() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let id = UUID()
            let when = Date(timeIntervalSince1970: 1_764_000_000.123456)
            let tags = ["a", "b,c", "d\"e", "NULL", "{x}", "back\\slash", ""]
            let rows = try await pool.query(
                """
                SELECT $1::text AS t, $2::int8 AS i, $3::bool AS b, $4::uuid AS u, $5::timestamptz AS ts,
                       $6::jsonb AS j, $7::bytea AS by, $8::text[] AS arr, $9::int4 AS small, $10::text AS n,
                       $11::float8 AS f
                """,
                "héllo 'quoted'; DROP", 9_007_199_254_740_993 as Int, true, id, when,
                PGBind.jsonb(#"{"k": [1, 2]}"#), PGBind.bytea([0, 1, 254, 255]), tags, Int32(-7),
                String?.none, 2.5)
            let row = try #require(rows.first)
            #expect(try row.decode("t", as: String.self) == "héllo 'quoted'; DROP")
            #expect(try row.decode("i", as: Int.self) == 9_007_199_254_740_993)
            #expect(try row.decode("b", as: Bool.self) == true)
            #expect(try row.decode("u", as: UUID.self) == id)
            let ts = try row.decode("ts", as: Date.self)
            #expect(abs(ts.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode("j", as: String.self) == #"{"k": [1, 2]}"#)
            #expect(try row.decode("by", as: PGBytes.self).bytes == [0, 1, 254, 255])
            #expect(try row.decode("arr", as: [String].self) == tags)
            #expect(try row.decode("small", as: Int32.self) == -7)
            #expect(try row.decode("n", as: String?.self) == nil)
            #expect(try row.decode("f", as: Double.self) == 2.5)
        }
    }

    @Test func decodingErrorsAreThrownNotCrashes() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let row = try #require(try await pool.query("SELECT 'x'::text AS t, NULL::int AS n").first)
            #expect(throws: PGError.self) { try row.decode("t", as: Int.self) }
            #expect(throws: PGError.self) { try row.decode("n", as: Int.self) }
            #expect(throws: PGError.self) { try row.decode("missing", as: String.self) }
        }
    }

    @Test func timestampParsingHonoursOffsets() {
        let utc = PGText.parseTimestamp("2026-11-29 12:00:00+00")
        let plusTwo = PGText.parseTimestamp("2026-11-29 14:00:00.5+02")
        #expect(utc != nil)
        #expect(plusTwo?.timeIntervalSince1970 == (utc?.timeIntervalSince1970 ?? 0) + 0.5)
        #expect(PGText.parseTimestamp("not a date") == nil)
    }
}
