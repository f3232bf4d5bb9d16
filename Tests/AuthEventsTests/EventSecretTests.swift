import AuthCore
import AuthCrypto
import AuthEvents
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit
import TestSupport
import Testing

/// One-time codes riding with events: sealed at rest, opened only by a consumer holding the
/// keyring, never in the envelope JSON, purged once every group has them or they expired.
@Suite struct EventSecretTests {
    @Test func secretsAreSealedDeliveredAndPurged() async throws {
        let db = try await TestDatabases.shared.migrated()  // its own: other suites' groups would hold secrets back
        try await db.withPool { pool in
            let sealer = SecretSealer(keyring: try Keyring.ephemeral())
            let store = ConsumerGroupStore(pool: pool)
            let t = "test.code"
            try await store.ensure(group: "mailer", subscriptions: [t], start: .oldest)
            let live = AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil, data: ["channel": .string("email")])
            var withCode = live
            withCode.secret = .init("493817", expiresAt: Date().addingTimeInterval(600))
            var expired = AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil)
            expired.secret = .init("111222", expiresAt: Date().addingTimeInterval(-1))

            // Without a sealer an event carrying a secret is refused, and nothing is written.
            await #expect(throws: AuthError.self) {
                try await pool.withTransaction { tx in try await EventOutbox().append(withCode, in: tx) }
            }
            try await pool.withTransaction { tx in try await EventOutbox(sealer: sealer).append([withCode, expired], in: tx) }
            let plain = try await pool.query(
                """
                SELECT count(*)::int8 AS n FROM auth.events
                WHERE sealed_secret IS NOT NULL AND position(convert_to('493817', 'UTF8') IN sealed_secret) = 0
                  AND position('493817' IN data::text || actor::text || subject::text) = 0
                """)
            #expect(try plain.first?.decode("n", as: Int.self) == 2, "sealed at rest, not in the envelope columns")

            // The expired one goes at once; the live one waits for its delivery.
            #expect(try await EventStore().purgeSecrets(on: pool) == 1)
            try await store.advance(group: "mailer")
            let claimed = try await store.claim(group: "mailer", owner: "w", limit: 10, lease: .seconds(30))
            let envelope = try #require(claimed.first { $0.id == withCode.id })
            #expect(try envelope.secret(sealer) == "493817")
            #expect(!JSONValue.object(envelope.json).jsonText.contains("493817"), "the envelope JSON (log consumer) never shows it")
            #expect(throws: (any Error).self) { try envelope.secret(SecretSealer(keyring: try Keyring.ephemeral())) }
            #expect(try await EventStore().purgeSecrets(on: pool) == 0, "still pending for the mailer group")
            for e in claimed { #expect(try await store.complete(group: "mailer", event: e.id, owner: "w")) }
            #expect(try await EventStore().purgeSecrets(on: pool) == 1)
            let left = try await pool.query("SELECT count(*)::int8 AS n FROM auth.events WHERE sealed_secret IS NOT NULL")
            #expect(try left.first?.decode("n", as: Int.self) == 0)
        }
    }
}
