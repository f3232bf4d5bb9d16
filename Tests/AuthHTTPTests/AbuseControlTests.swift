import AuthCore
import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Security requirements 5, 6 and 7 over HTTP: lockout, rate limits shared by processes, the
/// cap on password checks per account, the bounded hashing queue, client addresses.
@Suite struct AbuseControlTests {
    static let wrong = "not the password at all"

    /// Requirement 7 (and 5): after the threshold the account is locked; a locked account's
    /// login — even with the right password — answers byte for byte as a wrong password or an
    /// unknown account; the owner is told once; the lock doubles; a successful login resets it.
    @Test func lockoutAnswersAsAWrongPasswordAndGrowsUntilALoginSucceeds() async throws {
        try await TestApp.with(configure: { $0.lockout.threshold = 3 }) { app, client in
            #expect(try await client.signup("ann@example.com").status == .ok)
            let tenant = try await app.defaultTenant()
            for _ in 0..<3 { #expect(try await client.login("ann@example.com", Self.wrong).code == "INVALID_CREDENTIALS") }
            #expect(try await app.events(tenant, type: "auth.account_locked").count == 1)
            let locked = try await client.login("ann@example.com")
            let unknown = try await client.login("nobody@example.com")
            let wrong = try await client.login("ann@example.com", Self.wrong)
            #expect(locked.status == .unauthorized && locked.raw == unknown.raw && locked.raw == wrong.raw)
            #expect(locked.headers[.retryAfter] == nil)
            // Failures while locked neither count nor lock again.
            #expect(try await app.events(tenant, type: "auth.account_locked").count == 1)
            let failed = try await app.events(tenant, type: "auth.login_failed").filter { $0.data["knownAccount"] == .bool(true) }
            #expect(failed.count == 5 && failed.suffix(2).allSatisfy { $0.data["accountLocked"] == .bool(true) })
            let firstLock = try await app.scalar(
                tenant, "SELECT round(extract(epoch FROM locked_until - last_failed_at))::int8 FROM credentials")
            #expect(firstLock == 60)

            // The lock runs out; three more failures lock for twice as long.
            _ = try await app.scalar(tenant, "WITH u AS (UPDATE credentials SET locked_until = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            for _ in 0..<3 { _ = try await client.login("ann@example.com", Self.wrong) }
            let secondLock = try await app.scalar(
                tenant, "SELECT round(extract(epoch FROM locked_until - last_failed_at))::int8 FROM credentials")
            #expect(secondLock == 120)
            #expect(try await app.events(tenant, type: "auth.account_locked").count == 2)

            // Once it runs out, the right password logs in and resets everything.
            _ = try await app.scalar(tenant, "WITH u AS (UPDATE credentials SET locked_until = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            #expect(try await client.login("ann@example.com").status == .ok)
            #expect(try await app.scalar(tenant, "SELECT (failed_attempts + lockouts)::int8 FROM credentials WHERE locked_until IS NULL") == 0)
        }
    }

    /// Requirement 6: the per-account bucket answers 429 with `Retry-After` — the same for an
    /// account that does not exist, so the limit reveals nothing.
    @Test func thePerAccountLimitIs429WithRetryAfterForKnownAndUnknownAccounts() async throws {
        try await TestApp.with(configure: { $0.rateLimits.passwordChecksPerAccountPerHour = 20 }) { app, client in
            #expect(try await client.signup("ann@example.com").status == .ok)
            for email in ["ann@example.com", "nobody@example.com"] {
                for _ in 0..<2 { #expect(try await client.login(email, Self.wrong).code == "INVALID_CREDENTIALS") }
                let limited = try await client.login(email, Self.wrong)
                #expect(limited.status == .tooManyRequests && limited.code == "RATE_LIMITED")
                let wait = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
                #expect(wait > 100 && wait <= 200)  // 18 an hour after a burst of 2: one every 200 s
            }
            // Another account is not affected; the bucket is keyed without the address itself.
            #expect(try await client.signup("bob@example.com").status == .ok)
            #expect(try await client.login("bob@example.com").status == .ok)
            let keys = try await app.pool.query("SELECT encode(key, 'hex') AS k FROM auth.rate_limits")
            #expect(!keys.isEmpty)
            for row in keys { #expect(try row.decode("k", as: String.self).count == 64) }
        }
    }

    /// Requirement 6's burst: 1000 failed logins against one account from 50 addresses, through
    /// two authd processes at once, check its password at most 100 times (lockout off, so the
    /// shared bucket alone is what holds).
    @Test func aBurstFromFiftyAddressesThroughTwoProcessesChecksThePasswordAtMostAHundredTimes() async throws {
        let db = try await TestDatabases.shared.migrated()
        let keyring = try Keyring.ephemeral()
        let checker = PasswordHasher(parameters: .init(memoryKiB: 1024, iterations: 1, parallelism: 1), threads: 2, maxPending: 10_000)
        let target = Locked<String?>(nil)
        let checks = Locked(0)
        var verifying = AuthHooks()
        verifying.password.verify = { password, hash in
            if hash == target.value { checks.withLock { $0 += 1 } }
            return try await checker.verify(password, against: hash)
        }
        let hooks = verifying
        let configure: @Sendable (inout AuthSettings) -> Void = {
            $0.lockout.threshold = 0
            $0.trustedProxies = try! TrustedProxies(parsing: "127.0.0.1, ::1")
        }
        let outcomes = try await TestApp.with(hooks: hooks, database: db, configure: configure, hashQueueLimit: 10_000, testing: .ahc(.http), keyring: keyring) {
            app, first in
            #expect(try await first.signup("ann@example.com").status == .ok)
            target.withLock { $0 = nil }
            let hash: String = try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try #require(try await tx.query("SELECT password_hash FROM credentials").first).decode("password_hash")
            }
            target.withLock { $0 = hash }
            return try await TestApp.with(hooks: hooks, database: db, configure: configure, hashQueueLimit: 10_000, testing: .ahc(.http), keyring: keyring) {
                _, second in
                try await withThrowingTaskGroup(of: [String].self) { group in
                    for ip in 0..<50 {
                        let client: any TestClientProtocol = ip % 2 == 0 ? first : second
                        group.addTask {
                            var codes: [String] = []
                            for _ in 0..<20 {
                                let r = try await client.login("ann@example.com", Self.wrong, headers: ["x-forwarded-for": "198.51.100.\(ip + 1)"])
                                codes.append(r.code ?? "\(r.status.code)")
                            }
                            return codes
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
        }
        await checker.shutdown()
        #expect(outcomes.count == 1000)
        #expect(checks.value >= 1 && checks.value <= 100, "password checked \(checks.value) times")
        #expect(outcomes.filter { $0 == "INVALID_CREDENTIALS" }.count == checks.value)
        #expect(outcomes.filter { $0 == "RATE_LIMITED" }.count == 1000 - checks.value)
    }

    /// Requirement 6 per address: a trusted proxy's `X-Forwarded-For` names the client; the
    /// same header from anyone else is ignored (the socket's address counts).
    @Test func thePerAddressLimitFollowsTrustedProxiesOnly() async throws {
        let limits: (inout AuthSettings) -> Void = {
            $0.rateLimits.perIP[.login] = RateLimitRule(3, per: .seconds(600))
            $0.trustedProxies = try! TrustedProxies(parsing: "127.0.0.0/8, ::1")
        }
        try await TestApp.with(configure: limits, testing: .ahc(.http)) { _, client in
            for i in 0..<3 {
                let r = try await client.login("u\(i)@example.com", headers: ["x-forwarded-for": "203.0.113.9, 127.0.0.1"])
                #expect(r.code == "INVALID_CREDENTIALS")
            }
            let limited = try await client.login("u9@example.com", headers: ["x-forwarded-for": "203.0.113.9"])
            #expect(limited.code == "RATE_LIMITED" && limited.headers[.retryAfter] != nil)
            // Another client behind the same proxy has its own bucket.
            #expect(try await client.login("u9@example.com", headers: ["x-forwarded-for": "203.0.113.10"]).code == "INVALID_CREDENTIALS")
        }
        let untrusted: (inout AuthSettings) -> Void = { $0.rateLimits.perIP[.login] = RateLimitRule(3, per: .seconds(600)) }
        try await TestApp.with(configure: untrusted, testing: .ahc(.http)) { (_, client) async throws -> Void in
            // Without trusted proxies, a changing header does not buy new buckets.
            for i in 0..<3 {
                #expect(try await client.login("u\(i)@example.com", headers: ["x-forwarded-for": "203.0.113.\(i)"]).code == "INVALID_CREDENTIALS")
            }
            #expect(try await client.login("u9@example.com", headers: ["x-forwarded-for": "203.0.113.99"]).code == "RATE_LIMITED")
        }
    }

    /// Signup is limited per address and per identifier before any hash is made.
    @Test func signupIsRateLimitedPerIdentifier() async throws {
        try await TestApp.with(configure: { $0.rateLimits.perIdentifier[.signup] = RateLimitRule(2, per: .seconds(600)) }) { app, client in
            #expect(try await client.signup("ann@example.com").status == .ok)
            #expect(try await client.signup("ann@example.com").code == "EMAIL_ALREADY_EXISTS")
            let limited = try await client.signup("ann@example.com")
            #expect(limited.code == "RATE_LIMITED" && limited.status == .tooManyRequests)
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 1)
        }
    }

    /// The hashing queue is bounded: a flood of logins gets 503 `SERVICE_UNAVAILABLE` with
    /// `Retry-After` at once for what does not fit, and nothing changes for those requests.
    @Test func aFullHashingQueueIs503AtOnce() async throws {
        try await TestApp.with(
            argon2: .init(memoryKiB: 19_456, iterations: 2, parallelism: 1), configure: { $0.rateLimits.enabled = false }, hashQueueLimit: 2
        ) { app, client in
            #expect(try await client.signup("ann@example.com").status == .ok)
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<40 { group.addTask { try await client.login("ann@example.com") } }
                return try await group.reduce(into: [Reply]()) { $0.append($1) }
            }
            let unavailable = replies.filter { $0.status == .serviceUnavailable }
            #expect(!unavailable.isEmpty)
            #expect(unavailable.allSatisfy { $0.code == "SERVICE_UNAVAILABLE" && $0.headers[.retryAfter] == "1" })
            let ok = replies.filter { $0.status == .ok }.count
            #expect(ok >= 2 && ok + unavailable.count == 40)
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM sessions") == Int(ok) + 1)
        }
    }
}
