import AuthCrypto
import Foundation

/// argon2id with the production parameters: one thread, then one per core (the login ceiling).
enum Argon2Bench {
    static func hashesPerSecond(threads: Int, seconds: Double) async throws -> Double {
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
