#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a backend reaches authd and what its tokens must say.
public struct AuthClientConfiguration: Sendable {
    /// What to do while revocations may have been missed (before the first read, after a
    /// reconnect until the re-read succeeds, or when the database cannot be read).
    public enum OutOfSyncPolicy: Sendable {
        /// 503 `SERVICE_UNAVAILABLE` with `Retry-After`: a revoked session is never accepted.
        case refuse
        /// Accept signed, unexpired tokens: a revoked session may pass until its token expires.
        case accept
    }

    /// authd's JWKS, e.g. `http://authd:3000/.well-known/jwks.json`.
    public var jwksURL: String
    /// The `iss` and `aud` authd puts in its tokens (`AUTH_JWT_ISSUER`, `AUTH_JWT_AUDIENCE`).
    public var issuer: String
    public var audience: String
    /// authd's database, for the revocation broadcast and the re-reads (a role with SELECT on
    /// `auth.revocations` and `auth.tenants` and nothing else is enough). Nil: revocations are
    /// not followed, and a logged-out session's token passes until it expires.
    public var databaseURL: String?
    public var whenOutOfSync: OutOfSyncPolicy
    /// How long a fetched JWKS is used before it is fetched again (authd sends `max-age=300`).
    public var jwksMaxAge: Duration
    /// At most one refetch for an unknown `kid` per this interval.
    public var jwksMinRefetchInterval: Duration
    /// How often the revocations table is re-read besides the broadcast.
    public var revocationRereadInterval: Duration
    /// How long after its last successful read the revocation list still counts as in sync.
    public var revocationFreshness: Duration
    /// Tolerated clock difference for `nbf` and `iat`.
    public var leeway: Duration
    /// authd's `AUTH_MFA_ENABLED`: when on (its default), a token issued before the user's
    /// second factor was verified is refused (401 `MFA_REQUIRED`).
    public var mfaEnabled: Bool

    public init(
        jwksURL: String, issuer: String = "authd", audience: String = "authd", databaseURL: String?,
        whenOutOfSync: OutOfSyncPolicy = .refuse
    ) {
        self.jwksURL = jwksURL
        self.issuer = issuer
        self.audience = audience
        self.databaseURL = databaseURL
        self.whenOutOfSync = whenOutOfSync
        jwksMaxAge = .seconds(300)
        jwksMinRefetchInterval = .seconds(10)
        revocationRereadInterval = .seconds(2)
        revocationFreshness = .seconds(10)
        leeway = .seconds(5)
        mfaEnabled = true
    }
}
