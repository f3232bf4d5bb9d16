import PGKit
import Synchronization

extension TestDatabase {
    /// Runs `body` while a child task holds the migration lock on another of `pool`'s
    /// connections, as `authd migrate` does. The lock is let go when `body` returns, or after
    /// 30 s: code under test that waited for the lock would then go on, so such a regression
    /// fails the test instead of hanging it.
    public static func whileMigrating<T>(_ pool: PGPool, _ body: () async throws -> T) async throws -> T {
        let locked = Flag()
        let finished = Flag()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await pool.withConnection { lease in
                    try await PGMigrator.withMigrationLock(on: lease) {
                        locked.set()
                        let deadline = ContinuousClock.now + .seconds(30)
                        while !finished.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                    }
                }
            }
            while !locked.isSet { try await Task.sleep(for: .milliseconds(10)) }
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            finished.set()
            try await group.waitForAll()
            return try result.get()
        }
    }

    /// A flag tasks can share.
    private final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }
}
