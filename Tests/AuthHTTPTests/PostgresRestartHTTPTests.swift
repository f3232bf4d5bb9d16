import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import PGKit
import Synchronization
import TestSupport
import Testing

/// PostgreSQL restarted under refresh load (on a cluster of the test's own). The review found 6
/// of ~600 refreshes answering 500 during a restart. Now a statement that never ran is sent again
/// on a fresh connection, and anything else the outage causes is 503 with `Retry-After`.
@Suite struct PostgresRestartHTTPTests {
    @Test func aRestartUnderLoadAnswers503NeverA500() async throws {
        try await OwnCluster.with { try await run($0) }
    }

    func run(_ cluster: OwnCluster) async throws {
        let conninfo = try await cluster.createDatabase("authd")
        let database = TestDatabase(name: "authd", conninfo: conninfo)
        try await database.withPool(size: 1) { pool in try await DatabaseMigrator(registry: try TestDatabase.registry(pool)).migrate() }
        let outcomes = Locked<[(status: Int, retryAfter: String?, code: String?)]>([])
        try await TestApp.with(database: database, configure: { $0.refreshGraceWindow = .seconds(30) }) { _, client in
            var tokens: [String] = []
            for i in 0..<4 { tokens.append(try #require(try await client.signup("u\(i)@example.com").refreshToken)) }
            let stop = Locked(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for token in tokens {
                    group.addTask {
                        var current = token
                        while !stop.withLock({ $0 }) {
                            let r = try await client.refresh(current)
                            outcomes.withLock { $0.append((Int(r.status.code), r.headers[.retryAfter], r.code)) }
                            if let next = r.refreshToken { current = next } else { try await Task.sleep(for: .milliseconds(20)) }
                        }
                        // After the restart every chain works again (a 503'd rotation that did commit
                        // is answered through the grace window).
                        let recovered = try await eventually(timeout: .seconds(20)) { try await client.refresh(current).status == .ok }
                        #expect(recovered)
                    }
                }
                // Counted, not timed: refreshes succeed before the restart and again after it,
                // however slowly a loaded machine runs them.
                let successes = { outcomes.withLock { $0.filter { $0.status == 200 }.count } }
                _ = try await eventually(timeout: .seconds(30)) { successes() >= 6 }
                try await cluster.restart()
                let before = successes()
                _ = try await eventually(timeout: .seconds(30)) { successes() >= before + 6 }
                stop.withLock { $0 = true }
                try await group.waitForAll()
            }
        }
        let all = outcomes.withLock { $0 }
        let failures = all.filter { $0.status >= 500 }
        #expect(!all.isEmpty)
        #expect(failures.allSatisfy { $0.status == 503 && $0.code == "SERVICE_UNAVAILABLE" && $0.retryAfter != nil }, "\(failures)")
        #expect(all.filter { $0.status == 200 }.count > 10)
        #expect(all.allSatisfy { $0.status == 200 || $0.status == 503 }, "\(all.filter { $0.status != 200 && $0.status != 503 })")
    }
}
