#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import JWTKit

/// An issuer's signing keys, fetched from its JWKS URL and kept for `maxAge`. A token naming an
/// unknown `kid` (the issuer rotated its keys) causes one refetch, at most once per
/// `minRefetchInterval`, so a flood of tokens with made-up `kid`s costs the issuer one request
/// per interval, not one per login.
actor JWKSCache {
    let url: String
    let http: ProviderHTTP
    let maxAge: Duration
    let minRefetchInterval: Duration
    private var keys: (keys: JWTKeyCollection, kids: Set<String>)?
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    /// When an unknown `kid` last caused a fetch (the scheduled ones do not count: a rotation
    /// right after one must still be followed).
    private var lastRefetch: ContinuousClock.Instant?

    init(url: String, http: ProviderHTTP, maxAge: Duration = .seconds(3600), minRefetchInterval: Duration = .seconds(30)) {
        self.url = url
        self.http = http
        self.maxAge = maxAge
        self.minRefetchInterval = minRefetchInterval
    }

    /// The verified claims of `token`; 401 `INVALID_CREDENTIALS` for a bad signature, a
    /// malformed token or a `kid` the issuer does not (or no longer) publish.
    func verify<Payload: JWTPayload>(_ token: String, as type: Payload.Type) async throws -> Payload {
        // jwt-kit falls back to a default key for an unknown `kid`: the kid is checked here, so
        // a token is only ever verified with the key it names.
        guard let kid = Self.kid(of: token) else { throw AuthError(.invalidCredentials, cause: ProviderRefusal(provider: url, reason: "no kid")) }
        let now = ContinuousClock.now
        var current: (keys: JWTKeyCollection, kids: Set<String>)
        if let keys, let fetchedAt, fetchedAt.duration(to: now) < maxAge {
            current = keys
        } else if let keys, let lastAttempt, lastAttempt.duration(to: now) < minRefetchInterval {
            // Stale, but the issuer was asked moments ago (and failed): keep what we have.
            current = keys
        } else {
            current = try await fetch()
        }
        if !current.kids.contains(kid) {
            guard let fresh = try await refetchIfAllowed(), fresh.kids.contains(kid) else {
                throw AuthError(.invalidCredentials, cause: ProviderRefusal(provider: url, reason: "unknown kid"))
            }
            current = fresh
        }
        do {
            return try await current.keys.verify(token, as: Payload.self)
        } catch {
            throw AuthError(.invalidCredentials, cause: error)
        }
    }

    /// The `kid` of a compact JWS's header, if it has one.
    static func kid(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
              let bytes = Base64URL.decode(String(header)), let json = try? JSONValue.parse(bytes: bytes)
        else { return nil }
        return json.objectValue["kid"]?.stringValue
    }

    private func refetchIfAllowed() async throws -> (keys: JWTKeyCollection, kids: Set<String>)? {
        if let lastRefetch, lastRefetch.duration(to: .now) < minRefetchInterval { return nil }
        lastRefetch = .now
        return try await fetch()
    }

    private func fetch() async throws -> (keys: JWTKeyCollection, kids: Set<String>) {
        lastAttempt = .now
        let reply = try await http.get(url)
        guard reply.status == 200 else {
            throw AuthError(.providerUnavailable, message: "The identity provider's keys could not be read (\(reply.status))", retryAfter: 5)
        }
        let collection = JWTKeyCollection()
        var kids: Set<String> = []
        // Keys authd cannot use (another kty, no kid, for encryption) are skipped, not fatal:
        // issuers publish encryption keys beside signing keys.
        for key in reply.body.objectValue["keys"]?.arrayValue ?? [] {
            let o = key.objectValue
            guard let kid = o["kid"]?.stringValue, o["use"]?.stringValue ?? "sig" == "sig",
                  let jwk = try? JSONDecoder().decode(JWK.self, from: Data(key.jsonText.utf8)),
                  (try? await collection.add(jwk: jwk)) != nil
            else { continue }
            kids.insert(kid)
        }
        keys = (collection, kids)
        fetchedAt = .now
        return (collection, kids)
    }
}
