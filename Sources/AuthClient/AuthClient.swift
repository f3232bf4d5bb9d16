import AsyncHTTPClient
import Hummingbird
import Logging
import ServiceLifecycle

/// Everything a backend needs to accept authd's access tokens on its own: a verifier (JWKS
/// cache, claims, revocations) and the service that follows revocations. Add `services` to the
/// application's `ServiceGroup`; put `middleware()` in front of protected routes.
///
/// ```swift
/// let auth = try AuthClient(AuthClientConfiguration(jwksURL: "http://authd:3000/.well-known/jwks.json",
///                                                   databaseURL: "postgresql://reader@db/authd"))
/// router.group("notes").add(middleware: auth.middleware()).get { _, context in context.identity!.userID.uuidString }
/// ```
public struct AuthClient: Sendable {
    public let configuration: AuthClientConfiguration
    public let verifier: AccessTokenVerifier
    /// Nil when `databaseURL` is nil.
    public let revocations: RevocationFollower?
    let refresher: JWKSRefresher

    public init(_ configuration: AuthClientConfiguration, http: HTTPClient = .shared, logger: Logger = Logger(label: "authclient")) throws {
        self.configuration = configuration
        let keyring = JWKSKeyring(
            url: configuration.jwksURL, http: http, maxAge: configuration.jwksMaxAge,
            minRefetchInterval: configuration.jwksMinRefetchInterval)
        revocations = try configuration.databaseURL.map {
            try RevocationFollower(
                conninfo: $0, rereadInterval: configuration.revocationRereadInterval, freshness: configuration.revocationFreshness,
                logger: logger)
        }
        verifier = AccessTokenVerifier(configuration: configuration, keyring: keyring, revocations: revocations)
        refresher = JWKSRefresher(keyring: keyring, interval: configuration.jwksMaxAge / 2)
    }

    /// The long-running parts, for the application's `ServiceGroup`: the JWKS refresher, and
    /// the revocation follower when a database is configured.
    public var services: [any Service] { [refresher] + (revocations.map { [$0] } ?? []) }

    /// Authenticates every request of the routes it is added to.
    public func middleware<Context: AuthClientRequestContext>(context: Context.Type = Context.self) -> AuthClientMiddleware<Context> {
        AuthClientMiddleware(verifier: verifier)
    }
}
