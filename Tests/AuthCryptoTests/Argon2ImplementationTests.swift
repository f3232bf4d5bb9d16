import CArgon2
import CSodium
import Testing
@testable import AuthCrypto

/// argon2id through libsodium (the fast one) and libargon2 (the reference, kept for p > 1 and
/// imported hashes) are the same function: RFC 9106's test vector through libargon2, then
/// byte-for-byte equality of the two, then each one's strings verified by the other.
@Suite struct Argon2ImplementationTests {
    /// RFC 9106 §5.3: argon2id, 32 KiB, 3 passes, 4 lanes, with secret and associated data.
    @Test func rfc9106VectorThroughLibargon2() throws {
        var password = [UInt8](repeating: 0x01, count: 32), salt = [UInt8](repeating: 0x02, count: 16)
        var secret = [UInt8](repeating: 0x03, count: 8), ad = [UInt8](repeating: 0x04, count: 12)
        var out = [UInt8](repeating: 0, count: 32)
        let rc = out.withUnsafeMutableBufferPointer { o in
            password.withUnsafeMutableBufferPointer { p in
                salt.withUnsafeMutableBufferPointer { s in
                    secret.withUnsafeMutableBufferPointer { k in
                        ad.withUnsafeMutableBufferPointer { x in
                            var ctx = argon2_context()
                            ctx.out = o.baseAddress; ctx.outlen = 32
                            ctx.pwd = p.baseAddress; ctx.pwdlen = 32
                            ctx.salt = s.baseAddress; ctx.saltlen = 16
                            ctx.secret = k.baseAddress; ctx.secretlen = 8
                            ctx.ad = x.baseAddress; ctx.adlen = 12
                            ctx.t_cost = 3; ctx.m_cost = 32; ctx.lanes = 4; ctx.threads = 4
                            ctx.version = UInt32(ARGON2_VERSION_13.rawValue)
                            return argon2_ctx(&ctx, Argon2_id)
                        }
                    }
                }
            }
        }
        #expect(rc == ARGON2_OK.rawValue)
        #expect(hex(out) == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    }

    /// For one lane, libsodium's raw output equals libargon2's for the same input.
    @Test(arguments: [(UInt32(1024), UInt32(1)), (8192, 3), (19_456, 2), (47_104, 1)])
    func libsodiumEqualsLibargon2(_ memoryKiB: UInt32, _ iterations: UInt32) throws {
        #expect(Sodium.ready)
        for password in ["correct horse battery staple", "ünïcödé", "", String(repeating: "x", count: 300)] {
            let salt = try SecureRandom.bytes(16)
            let pw = Array(password.utf8)
            var reference = [UInt8](repeating: 0, count: 32)
            let rc = argon2id_hash_raw(iterations, memoryKiB, 1, pw, pw.count, salt, salt.count, &reference, 32)
            #expect(rc == ARGON2_OK.rawValue)
            var fast = [UInt8](repeating: 0, count: 32)
            let rc2 = password.withCString { p in
                crypto_pwhash(&fast, 32, p, UInt64(pw.count), salt, UInt64(iterations), Int(memoryKiB) * 1024, CSODIUM_ALG_ARGON2ID13)
            }
            #expect(rc2 == 0)
            #expect(fast == reference, "m=\(memoryKiB) t=\(iterations) \(password.prefix(10))")
        }
    }

    @Test func eachVerifiesTheOthersStrings() async throws {
        let hasher = PasswordHasher(parameters: .init(memoryKiB: 1024, iterations: 2, parallelism: 1), threads: 1)
        let made = try await hasher.hash("pw one")
        #expect(made.hasPrefix("$argon2id$v=19$m=1024,t=2,p=1$"))
        #expect(argon2id_verify(made, "pw one", 6) == ARGON2_OK.rawValue, "libargon2 reads libsodium's string")
        #expect(argon2id_verify(made, "pw two", 6) != ARGON2_OK.rawValue)
        // A string libargon2 made (an imported hash) verifies through the hasher (libsodium).
        let imported = try PasswordHasher.hashSync("pw one", salt: try SecureRandom.bytes(16), .init(memoryKiB: 1024, iterations: 2, parallelism: 1))
        #expect(try await hasher.verify("pw one", against: imported))
        #expect(try await !hasher.verify("pw two", against: imported))
        // Several lanes: made and verified by libargon2.
        let lanes = PasswordHasher(parameters: .init(memoryKiB: 1024, iterations: 1, parallelism: 2), threads: 1)
        let multi = try await lanes.hash("pw one")
        #expect(multi.contains("p=2$"))
        #expect(try await hasher.verify("pw one", against: multi))
        #expect(try await !hasher.verify("pw two", against: multi))
        await lanes.shutdown()
        await hasher.shutdown()
    }

    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
    }
}
