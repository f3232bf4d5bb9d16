import AuthCrypto
import CArgon2
import CSodium
import Foundation

/// argon2id with the production parameters (m=19456 KiB, t=2, p=1): the single-thread time of
/// each implementation on this machine — libargon2 (Debian's portable build) and libsodium
/// (SIMD, what authd hashes with) — and the hasher on every core at once. The login ceiling is
/// cores × 1000 / the fastest single-thread median: what a server that did nothing but hash
/// could reach, measured against the best implementation here, not against authd's own.
enum Argon2Bench {
    struct Result {
        var libargon2Median: Double
        var libsodiumMedian: Double
        var hasherAllCores: Double
        var ceiling: Double
    }

    static func run(cores: Int, samples: Int = 15) async throws -> Result {
        let libargon2 = try await median(samples) { password, salt, out in
            argon2id_hash_raw(2, 19_456, 1, password, password.count, salt, salt.count, out, 32) == ARGON2_OK.rawValue
        }
        let libsodium = try await median(samples) { password, salt, out in
            crypto_pwhash(out, 32, password.map { CChar(bitPattern: $0) }, UInt64(password.count), salt, 2, 19_456 * 1024, CSODIUM_ALG_ARGON2ID13) == 0
        }
        let all = try await hasherRate(threads: cores, seconds: 3)
        return Result(
            libargon2Median: libargon2, libsodiumMedian: libsodium, hasherAllCores: all,
            ceiling: Double(cores) * 1000 / min(libargon2, libsodium))
    }

    /// The median milliseconds of one hash on one thread of its own.
    private static func median(_ samples: Int, _ hash: @escaping @Sendable ([UInt8], [UInt8], UnsafeMutablePointer<UInt8>) -> Bool) async throws -> Double {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Double, any Error>) in
            let thread = Thread {
                do {
                    let password = Array("benchmark password".utf8)
                    var out = [UInt8](repeating: 0, count: 32)
                    var times: [Double] = []
                    for i in 0...samples {
                        let salt = try SecureRandom.bytes(16)
                        let t0 = ContinuousClock.now
                        guard hash(password, salt, &out) else { throw CryptoError.hashingFailed("bench hash failed") }
                        if i > 0 { times.append(elapsed(since: t0) * 1000) }  // the first warms up
                    }
                    c.resume(returning: percentile(times.sorted(), 0.5))
                } catch {
                    c.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Hashes/s through `PasswordHasher` with `threads` hashing at once.
    static func hasherRate(threads: Int, seconds: Double) async throws -> Double {
        let hasher = PasswordHasher(parameters: .init(), threads: threads)
        _ = try await hasher.hash("warm up")
        let count = Shared(0)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<threads {
                group.addTask {
                    while elapsed(since: start) < seconds {
                        _ = try await hasher.hash("benchmark password \(i)")
                        count.update { $0 += 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let rate = Double(count.current) / elapsed(since: start)
        await hasher.shutdown()
        return rate
    }
}
