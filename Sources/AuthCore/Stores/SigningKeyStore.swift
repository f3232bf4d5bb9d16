#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `auth.signing_keys`: Ed25519 keys, the private halves only sealed. The next key — published in
/// JWKS, not yet scheduled to sign — has `activates_at` at `nextKeyMarker`.
public struct SigningKeyStore: Sendable {
    /// A stored key, its private half still sealed.
    public struct Row: Sendable {
        public var kid: String
        public var publicKey: [UInt8]
        public var sealedPrivateKey: [UInt8]
        public var activatesAt: Date?
        public var retiresAt: Date?
    }

    /// Serialises key changes across processes (a transaction-scoped advisory lock's key).
    static let lockName = "authd.signing_keys"

    public init() {}

    /// Keys that still verify, newest first (the next key last), and the database's clock when
    /// they were read (so a process can judge activation times by it, not by its own clock).
    public func load(on db: some PGQueryable) async throws -> (rows: [Row], databaseNow: Date) {
        let rows = try await db.query(
            """
            SELECT kid, public_key, private_key_sealed, activates_at, retires_at, now() AS db_now FROM auth.signing_keys
            WHERE retires_at IS NULL OR retires_at > now() ORDER BY activates_at DESC, created_at DESC
            """, [])
        let keys = try rows.map { row in
            let activates: Date = try row.decode("activates_at")
            return Row(
                kid: try row.decode("kid"), publicKey: try row.decode("public_key", as: PGBytes.self).bytes,
                sealedPrivateKey: try row.decode("private_key_sealed", as: PGBytes.self).bytes,
                activatesAt: activates >= Self.nextKeyMarker ? nil : activates, retiresAt: try row.decode("retires_at", as: Date?.self))
        }
        if let first = rows.first { return (keys, try first.decode("db_now")) }
        let now = try await db.query("SELECT now() AS db_now", []).first?.decode("db_now", as: Date.self)
        return (keys, now ?? Date())
    }

    /// The activation time that marks the next key: published, not scheduled. A date rather
    /// than NULL, so processes of the previous release (which read the column as a date) keep
    /// loading keys during a rolling upgrade; they see a key that signs in 7973 years.
    static let nextKeyMarker = Date(timeIntervalSince1970: 253_370_764_800)  // 9999-01-01
    static let nextKeyMarkerSQL = "'9999-01-01 00:00:00+00'::timestamptz"

    /// Which keys exist, by the database's clock: one that signs now, and a next one (unscheduled
    /// or scheduled in the future).
    public func presence(on db: some PGQueryable) async throws -> (signing: Bool, next: Bool) {
        let row = try await db.query(
            """
            SELECT EXISTS (SELECT 1 FROM auth.signing_keys WHERE activates_at <= now() AND (retires_at IS NULL OR retires_at > now())) AS signing,
                   EXISTS (SELECT 1 FROM auth.signing_keys WHERE activates_at > now() AND (retires_at IS NULL OR retires_at > now())) AS next
            """, [])
        guard let row = row.first else { return (false, false) }
        return (try row.decode("signing"), try row.decode("next"))
    }

    /// Inserts a key that signs `activatesIn` from now, or (nil) a next key.
    public func insert(kid: String, publicKey: [UInt8], sealedPrivateKey: [UInt8], activatesIn: Duration?, on db: some PGQueryable) async throws {
        try await db.query(
            """
            INSERT INTO auth.signing_keys (kid, algorithm, public_key, private_key_sealed, activates_at)
            VALUES ($1, 'EdDSA', $2, $3, coalesce(now() + make_interval(secs => $4), \(Self.nextKeyMarkerSQL)))
            """, kid, PGBind.bytea(publicKey), PGBind.bytea(sealedPrivateKey), activatesIn?.timeInterval)
    }

    /// Schedules the oldest next key to sign once it has been published `publishAhead`
    /// (counted from its creation, so a next key published long ago signs at once), and retires
    /// every key signing before it `overlap` after that. Returns its kid (nil: no next key).
    public func promoteNext(publishAhead: Duration, overlap: Duration, on db: some PGQueryable) async throws -> String? {
        let rows = try await db.query(
            """
            WITH next AS (
                UPDATE auth.signing_keys SET activates_at = greatest(now(), created_at + make_interval(secs => $1))
                WHERE kid = (SELECT kid FROM auth.signing_keys WHERE activates_at = \(Self.nextKeyMarkerSQL) AND retires_at IS NULL
                             ORDER BY created_at LIMIT 1)
                RETURNING kid, activates_at
            ), retired AS (
                UPDATE auth.signing_keys k SET retires_at = next.activates_at + make_interval(secs => $2)
                FROM next WHERE k.kid <> next.kid AND k.retires_at IS NULL AND k.activates_at < \(Self.nextKeyMarkerSQL)
            )
            SELECT kid FROM next
            """, publishAhead.timeInterval, overlap.timeInterval)
        return try rows.first?.decode("kid", as: String.self)
    }
}
