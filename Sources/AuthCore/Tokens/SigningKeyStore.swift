import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `auth.signing_keys`: Ed25519 keys whose private halves are stored sealed under the keyring,
/// bound to their kid. The first start creates one; `authd keys rotate` adds the next.
public struct SigningKeyStore: Sendable {
    public let pool: PGPool
    public let sealer: SecretSealer

    /// Serialises key creation across processes.
    static let lockKey: Int64 = 0x6175_7468_6B65_7973  // "authkeys"

    public init(pool: PGPool, sealer: SecretSealer) {
        self.pool = pool
        self.sealer = sealer
    }

    /// Every key that still verifies; creates the first key when there is none that signs.
    public func loadOrCreate(now: Date = Date()) async throws -> [SigningKey] {
        let keys = try await load(now: now)
        if keys.contains(where: { $0.isActive(at: now) }) { return keys }
        try await pool.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", Self.lockKey)
            // Another process may have created it while we waited for the lock.
            let active = try await tx.query(
                "SELECT 1 FROM auth.signing_keys WHERE activates_at <= now() AND (retires_at IS NULL OR retires_at > now())")
            if active.isEmpty { try await insertKey(in: tx, activatesIn: .zero) }
        }
        return try await load(now: now)
    }

    /// Adds a new key, published now and signing after `publishAhead` (so caches of the JWKS see
    /// it before any token uses it); the keys it replaces keep verifying for `overlap` after that.
    @discardableResult
    public func rotate(publishAhead: Duration, overlap: Duration) async throws -> String {
        try await pool.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", Self.lockKey)
            let kid = try await insertKey(in: tx, activatesIn: publishAhead)
            try await tx.query(
                """
                UPDATE auth.signing_keys
                SET retires_at = (SELECT activates_at FROM auth.signing_keys WHERE kid = $1) + make_interval(secs => $2)
                WHERE kid <> $1 AND retires_at IS NULL
                """, kid, overlap.timeInterval)
            return kid
        }
    }

    /// Keys that still verify, newest first, private halves opened.
    public func load(now: Date = Date()) async throws -> [SigningKey] {
        let rows = try await pool.query(
            """
            SELECT kid, public_key, private_key_sealed, activates_at, retires_at FROM auth.signing_keys
            WHERE retires_at IS NULL OR retires_at > now() ORDER BY activates_at DESC
            """)
        return try rows.map { row in
            let kid: String = try row.decode("kid")
            let sealed = try row.decode("private_key_sealed", as: PGBytes.self).bytes
            let raw = try sealer.open(sealed, purpose: "signing-key", associatedData: Array("auth.signing_keys/\(kid)".utf8))
            let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            return SigningKey(
                kid: kid, publicKey: privateKey.publicKey, privateKey: privateKey,
                activatesAt: try row.decode("activates_at"), retiresAt: try row.decode("retires_at", as: Date?.self))
        }
    }

    @discardableResult
    private func insertKey(in tx: PGTransaction, activatesIn: Duration) async throws -> String {
        let key = Curve25519.Signing.PrivateKey()
        let kid = Base64URL.encode(try SecureRandom.bytes(12))
        let sealed = try sealer.seal(
            Array(key.rawRepresentation), purpose: "signing-key", associatedData: Array("auth.signing_keys/\(kid)".utf8))
        try await tx.query(
            """
            INSERT INTO auth.signing_keys (kid, algorithm, public_key, private_key_sealed, activates_at)
            VALUES ($1, 'EdDSA', $2, $3, now() + make_interval(secs => $4))
            """, kid, PGBind.bytea(Array(key.publicKey.rawRepresentation)), PGBind.bytea(sealed), activatesIn.timeInterval)
        return kid
    }
}
