import CArgon2
import CSodium
import NIOCore
import NIOPosix
import Synchronization

/// argon2id password hashing in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
///
/// The work is libsodium's for one lane (p=1, every hash authd makes by default): Debian's
/// libargon2 is the portable reference build without SIMD, ~1.5 × slower per hash, while
/// libsodium picks its AVX2/SSSE3 code at run time — and both give byte-identical output
/// (tested against RFC 9106's vectors and against each other). libargon2 stays for what
/// libsodium's API does not make or may not read: several lanes (p > 1), imported hashes.
///
/// Each hash takes tens of milliseconds of one core and 19 MiB, so hashing runs on a dedicated
/// thread pool no wider than the machine's cores: never on the cooperative pool, and never more
/// at once than there are cores to run them. The queue in front of them is bounded: beyond
/// `maxPending` hashes waiting or running, a request is refused at once (`CryptoError.overloaded`,
/// 503 with `Retry-After`) — a flood of logins must not make every login wait seconds.
public final class PasswordHasher: Sendable {
    /// argon2id cost parameters (OWASP's minimum: m=19 MiB, t=2, p=1).
    public struct Parameters: Sendable, Equatable {
        public var memoryKiB: UInt32
        public var iterations: UInt32
        public var parallelism: UInt32
        public init(memoryKiB: UInt32 = 19_456, iterations: UInt32 = 2, parallelism: UInt32 = 1) {
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
        }

        /// The cost of an encoded `$argon2id$v=19$m=…,t=…,p=…$…` string (nil for anything else,
        /// argon2i/argon2d included).
        public init?(encoded: String) {
            let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
            guard fields.count == 6, fields[1] == "argon2id", fields[2] == "v=19" else { return nil }
            var values: [Substring: UInt32] = [:]
            for pair in fields[3].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let v = UInt32(kv[1]) else { return nil }
                values[kv[0]] = v
            }
            guard let m = values["m"], let t = values["t"], let p = values["p"] else { return nil }
            self.init(memoryKiB: m, iterations: t, parallelism: p)
        }

        /// At least one of OWASP's argon2id settings (Password Storage Cheat Sheet): m=47104 KiB
        /// with t=1, 19456/2, 12288/3, 9216/4 or 7168/5.
        public var meetsOWASPMinimum: Bool {
            [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5)].contains { memoryKiB >= $0.0 && iterations >= $0.1 }
        }
    }

    public let parameters: Parameters
    /// Hashing threads.
    public let threadCount: Int
    /// Hashes waiting or running at most; more are refused.
    public let maxPending: Int
    private let threads: NIOThreadPool
    private let pending = Atomic<Int>(0)

    /// - Parameters:
    ///   - threads: hashing threads; capped at the core count.
    ///   - maxPending: hashes waiting or running at most (nil: 8 per thread, about a quarter
    ///     second of waiting at OWASP's minimum cost).
    public init(parameters: Parameters = Parameters(), threads: Int = System.coreCount, maxPending: Int? = nil) {
        self.parameters = parameters
        threadCount = max(1, min(threads, System.coreCount))
        self.maxPending = max(threadCount, maxPending ?? 8 * threadCount)
        self.threads = NIOThreadPool(numberOfThreads: threadCount)
        self.threads.start()
    }

    /// Hashes a password with a fresh 16-byte salt.
    public func hash(_ password: String) async throws -> String {
        let params = parameters
        if params.parallelism == 1 {
            return try await admitted { try await threads.runIfActive { try Self.sodiumHash(password, params) } }
        }
        let salt = try SecureRandom.bytes(16)
        return try await admitted { try await threads.runIfActive { try Self.hashSync(password, salt: salt, params) } }
    }

    /// True when `password` matches the PHC string `encoded` (any argon2id parameters).
    public func verify(_ password: String, against encoded: String) async throws -> Bool {
        try await admitted { try await threads.runIfActive { Self.verifySync(password, encoded) } }
    }

    /// Runs `work` if the queue has room, else throws `overloaded` without queueing.
    private func admitted<T>(_ work: () async throws -> T) async throws -> T {
        if pending.wrappingAdd(1, ordering: .relaxed).newValue > maxPending {
            pending.wrappingSubtract(1, ordering: .relaxed)
            throw CryptoError.overloaded
        }
        defer { pending.wrappingSubtract(1, ordering: .relaxed) }
        return try await work()
    }

    /// libsodium for an argon2id string of one lane, libargon2 for anything else.
    static func verifySync(_ password: String, _ encoded: String) -> Bool {
        if Parameters(encoded: encoded)?.parallelism == 1, Sodium.ready {
            // The length is passed: the bytes are the UTF-8 of the password, whatever they hold.
            return password.withCString { crypto_pwhash_str_verify(encoded, $0, UInt64(password.utf8.count)) } == 0
        }
        let pwd = Array(password.utf8)
        return pwd.withUnsafeBytes { p in argon2id_verify(encoded, p.baseAddress, p.count) } == ARGON2_OK.rawValue
    }

    /// libsodium's argon2id (`crypto_pwhash_str_alg`): its own CSPRNG salt of 16 bytes, a 32-byte
    /// hash, the same PHC string libargon2 writes.
    static func sodiumHash(_ password: String, _ p: Parameters) throws -> String {
        guard Sodium.ready else { throw CryptoError.hashingFailed("libsodium could not be initialised") }
        var out = [CChar](repeating: 0, count: Int(CSODIUM_PWHASH_STRBYTES))
        let result = password.withCString { pw in
            crypto_pwhash_str_alg(
                &out, pw, UInt64(password.utf8.count), UInt64(p.iterations), Int(p.memoryKiB) * 1024, CSODIUM_ALG_ARGON2ID13)
        }
        guard result == 0 else { throw CryptoError.hashingFailed("argon2id (libsodium) failed: out of memory or parameters out of range") }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `encoded` is weaker than the current parameters — less memory or fewer passes,
    /// or not argon2id — so it is rehashed at the next login. A stronger hash (set up with
    /// higher costs, or imported) is kept: rehashing never downgrades.
    public func needsRehash(_ encoded: String) -> Bool {
        guard let stored = Parameters(encoded: encoded) else { return true }
        return stored.memoryKiB < parameters.memoryKiB || stored.iterations < parameters.iterations
    }

    /// Stops the hashing threads.
    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }

    static func hashSync(_ password: String, salt: [UInt8], _ p: Parameters) throws -> String {
        let pwd = Array(password.utf8)
        let length = argon2_encodedlen(p.iterations, p.memoryKiB, p.parallelism, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let result = pwd.withUnsafeBytes { pw in
            salt.withUnsafeBytes { s in
                argon2id_hash_encoded(
                    p.iterations, p.memoryKiB, p.parallelism, pw.baseAddress, pw.count, s.baseAddress, s.count,
                    32, &encoded, length)
            }
        }
        guard result == ARGON2_OK.rawValue else {
            throw CryptoError.hashingFailed(String(cString: argon2_error_message(result)))
        }
        let bytes = encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// libsodium's one-time initialisation (it picks the fastest implementations for this CPU).
enum Sodium {
    static let ready: Bool = sodium_init() >= 0
}
