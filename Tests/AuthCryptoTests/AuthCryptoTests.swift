import Foundation
import Testing
@testable import AuthCrypto

@Suite struct KeyringTests {
    let key32 = Base64.encode([UInt8](repeating: 7, count: 32))

    @Test func parsesEntriesAndTheFirstIsCurrent() throws {
        let other = Base64.encode([UInt8](repeating: 9, count: 48))
        let ring = try Keyring(parsing: "k2:\(key32), k1:\(other)")
        #expect(ring.current.id == "k2")
        #expect(ring.key(id: "k1")?.material.count == 48)
        #expect(!ring.description.contains(key32))
    }

    @Test(arguments: ["", "nocolon", "k1:", "k1:!!!", "k1:" + Base64.encode([UInt8](repeating: 1, count: 31)), "bad id:AAAA"])
    func rejectsWeakOrMalformed(_ text: String) {
        #expect(throws: CryptoError.self) { try Keyring(parsing: text) }
    }

    @Test func rejectsDuplicateIDs() {
        #expect(throws: CryptoError.self) { try Keyring(parsing: "a:\(key32),a:\(key32)") }
    }

    @Test func base64RoundTripsEveryLength() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
    }

    @Test func randomBytesDiffer() throws {
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
    }
}

@Suite struct PasswordHasherTests {
    // Cheap parameters keep the suite fast; the format and logic are the same.
    let hasher = PasswordHasher(parameters: .init(memoryKiB: 1024, iterations: 1, parallelism: 1), threads: 2)

    @Test func hashesInPHCFormatAndVerifies() async throws {
        let encoded = try await hasher.hash("correct horse battery staple")
        #expect(encoded.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
        #expect(try await hasher.verify("correct horse battery staple", against: encoded))
        #expect(try await !hasher.verify("wrong", against: encoded))
        #expect(try await !hasher.verify("x", against: "not a phc string"))
        // Fresh salt each time.
        #expect(try await hasher.hash("same") != hasher.hash("same"))
    }

    @Test func detectsParameterChangesForRehash() async throws {
        let encoded = try await hasher.hash("pw")
        #expect(!hasher.needsRehash(encoded))
        let stronger = PasswordHasher(parameters: .init(memoryKiB: 2048, iterations: 1, parallelism: 1), threads: 1)
        #expect(stronger.needsRehash(encoded))
        #expect(try await stronger.verify("pw", against: encoded))  // old hashes still verify
        await stronger.shutdown()
    }

    /// A hash stronger than the configured cost (set up with higher costs, or imported) is kept:
    /// before, any difference — a stronger hash included — was "rehashed" down.
    @Test func rehashNeverDowngrades() async throws {
        let strong = PasswordHasher(parameters: .init(memoryKiB: 2048, iterations: 3, parallelism: 1), threads: 1)
        let encoded = try await strong.hash("pw")
        await strong.shutdown()
        #expect(!hasher.needsRehash(encoded), "stronger than m=1024,t=1: kept")
        // Weaker in one dimension is weaker.
        let moreMemoryFewerPasses = PasswordHasher(parameters: .init(memoryKiB: 4096, iterations: 4, parallelism: 1), threads: 1)
        #expect(moreMemoryFewerPasses.needsRehash(encoded))
        await moreMemoryFewerPasses.shutdown()
        // Not argon2id, or unreadable: upgraded.
        #expect(hasher.needsRehash("$argon2i$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaA"))
        #expect(hasher.needsRehash("plain"))
    }

    @Test func owaspMinimumRows() {
        typealias P = PasswordHasher.Parameters
        #expect(P().meetsOWASPMinimum)
        #expect(P(memoryKiB: 47_104, iterations: 1).meetsOWASPMinimum)
        #expect(P(memoryKiB: 7_168, iterations: 5).meetsOWASPMinimum)
        #expect(!P(memoryKiB: 19_455, iterations: 2).meetsOWASPMinimum)
        #expect(!P(memoryKiB: 12_288, iterations: 2).meetsOWASPMinimum)
        #expect(!P(memoryKiB: 1024, iterations: 1).meetsOWASPMinimum)
    }
}

@Suite struct RefreshTokenFormatTests {
    @Test func uuidHexRoundTripsAndRejectsJunk() {
        for _ in 0..<100 {
            let id = UUID()
            let hex = RefreshToken.hex(id)
            #expect(hex == id.uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
            #expect(RefreshToken.uuid(fromHex: Substring(hex)) == id)
            #expect(RefreshToken.uuid(fromHex: Substring(hex.uppercased())) == id)
        }
        for junk in ["", "0", String(repeating: "g", count: 32), String(repeating: "0", count: 31), String(repeating: "0", count: 33),
                     "0000000-00000000000000000000000000", "é" + String(repeating: "0", count: 31)] {
            #expect(RefreshToken.uuid(fromHex: Substring(junk)) == nil, "\(junk)")
        }
    }

    @Test func mintedTokensVerifyAndTamperedOnesDoNot() throws {
        let ring = try Keyring(parsing: "k1:" + Base64.encode(try SecureRandom.bytes(32)))
        let token = try RefreshToken.mint(tenantID: UUID(), sessionID: UUID(), generation: 3, keyring: ring)
        #expect(RefreshToken.verify(token.value, keyring: ring) == token)
        var bytes = Array(token.value.utf8)
        bytes[bytes.count - 2] = bytes[bytes.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(RefreshToken.verify(String(decoding: bytes, as: UTF8.self), keyring: ring) == nil)
        let other = try Keyring(parsing: "k1:" + Base64.encode(try SecureRandom.bytes(32)))
        #expect(RefreshToken.verify(token.value, keyring: other) == nil)
    }
}

/// RFC 6238 appendix B (SHA-1, 8 digits) and base32 round trips.
@Suite struct TOTPVectorTests {
    @Test(arguments: [
        (Int64(59), "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfc6238Vectors(_ time: Int64, _ expected: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        #expect(totp.code(step: TOTP.step(at: time)) == expected)
    }

    @Test func base32RoundTripsAndRefusesGarbage() {
        for n in 0..<25 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)
    }
}
