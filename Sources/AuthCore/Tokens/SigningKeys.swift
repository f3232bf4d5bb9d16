import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Access-token signing keys: Ed25519, private halves sealed under the keyring (bound to their
/// kid). There is always a signing key and a next key; JWKS publishes both (API.md), so a
/// rotation promotes a key every verifier has long cached, and makes the following one.
public struct SigningKeys: Sendable {
    /// How long verifiers may cache JWKS (`Cache-Control: max-age`).
    public static let jwksMaxAge: Duration = .seconds(300)

    /// How often every process re-reads the keys (`SigningKeyRefresher`).
    public static let reloadInterval: Duration = .seconds(30)

    /// How long a key must be published before it signs: a verifier may hold a JWKS document
    /// for `jwksMaxAge`, fetched from a process that had not yet re-read the keys.
    public static let minimumPublishAhead: Duration = jwksMaxAge + reloadInterval

    let db: AuthDatabase
    let sealer: SecretSealer
    let store = SigningKeyStore()

    public init(db: AuthDatabase, sealer: SecretSealer) {
        self.db = db
        self.sealer = sealer
    }

    /// Every key that still verifies, private halves opened; first makes sure a signing key and
    /// a next key exist (the first start creates both).
    public func loadOrCreate() async throws -> [SigningKey] {
        let (signing, next) = try await db.statements { try await store.presence(on: $0) }
        if !signing || !next {
            try await db.transaction(PGTransactionOptions(advisoryLock: SigningKeyStore.lockName)) { tx in
                // Another process may have made them while we waited for the lock.
                let (signing, next) = try await store.presence(on: tx)
                if !signing { try await insertKey(activatesIn: .zero, on: tx) }
                if !next { try await insertKey(activatesIn: nil, on: tx) }
            }
        }
        return try await load()
    }

    /// Promotes the next key — it signs once published `publishAhead` (≥ `minimumPublishAhead`
    /// outside tests) — retires the keys it replaces `overlap` later, and makes the following
    /// next key.
    /// Returns the promoted kid.
    @discardableResult
    public func rotate(publishAhead: Duration, overlap: Duration) async throws -> String {
        try await db.transaction(PGTransactionOptions(advisoryLock: SigningKeyStore.lockName)) { tx in
            var kid = try await store.promoteNext(publishAhead: publishAhead, overlap: overlap, on: tx)
            if kid == nil {
                // No next key (a database from before next keys): make one and promote it.
                try await insertKey(activatesIn: nil, on: tx)
                kid = try await store.promoteNext(publishAhead: publishAhead, overlap: overlap, on: tx)
            }
            try await insertKey(activatesIn: nil, on: tx)
            guard let kid else { throw AuthError.internalError("no next signing key to promote") }
            return kid
        }
    }

    /// Keys that still verify, private halves opened. Their times are moved onto this process's
    /// clock (by the database's clock at the read), so a process whose clock is off still starts
    /// and stops signing with a key when the database says.
    public func load() async throws -> [SigningKey] {
        let (rows, databaseNow) = try await db.statements { try await store.load(on: $0) }
        let offset = databaseNow.timeIntervalSinceNow
        return try rows.map { row in
            let raw = try sealer.open(row.sealedPrivateKey, purpose: Self.purpose, associatedData: Self.associatedData(row.kid))
            let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            return SigningKey(
                kid: row.kid, publicKey: privateKey.publicKey, privateKey: privateKey,
                activatesAt: row.activatesAt?.addingTimeInterval(-offset), retiresAt: row.retiresAt?.addingTimeInterval(-offset))
        }
    }

    private func insertKey(activatesIn: Duration?, on db: some PGQueryable) async throws {
        let key = Curve25519.Signing.PrivateKey()
        let kid = Base64URL.encode(try SecureRandom.bytes(12))
        let sealed = try sealer.seal(Array(key.rawRepresentation), purpose: Self.purpose, associatedData: Self.associatedData(kid))
        try await store.insert(
            kid: kid, publicKey: Array(key.publicKey.rawRepresentation), sealedPrivateKey: sealed, activatesIn: activatesIn, on: db)
    }

    static let purpose = "signing-key"

    static func associatedData(_ kid: String) -> [UInt8] { Array("auth.signing_keys/\(kid)".utf8) }
}
