import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// An issuer's signing keys, fetched from its JWKS URL and kept for `maxAge`. A token naming an
/// unknown `kid` (the issuer rotated its keys) causes one refetch, at most once per
/// `minRefetchInterval`, so a flood of tokens with made-up `kid`s costs the issuer one request
/// per interval, not one per login. A failed or empty fetch keeps the keys already known.
///
/// Each key has one algorithm — the JWK's `alg`, else the one its type implies (RSA → RS256,
/// P-256 → ES256, Ed25519 → EdDSA) — and a token is verified only when its header names that
/// algorithm: jwt-kit would otherwise build (and keep) a verifier for whatever a token's header
/// says when a JWK has no `alg`, and one forged header could then break every honest login.
actor JWKSCache {
    struct Keys {
        let collection: JWTKeyCollection
        /// kid → algorithm.
        let algorithms: [String: String]
    }

    static let algorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

    let url: String
    let http: ProviderHTTP
    let maxAge: Duration
    let minRefetchInterval: Duration
    private var keys: Keys?
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    /// When an unknown `kid` last caused a fetch (the scheduled ones do not count: a rotation
    /// right after one must still be followed).
    private var lastRefetch: ContinuousClock.Instant?
    /// Callers waiting for the fetch in flight (nil: none running). Concurrent logins on a cold
    /// cache, or with a just-rotated kid, share one request instead of each making one (or, for
    /// the rotation, being refused while another's refetch runs).
    private var waiters: [CheckedContinuation<Keys, any Error>]?

    init(url: String, http: ProviderHTTP, maxAge: Duration = .seconds(3600), minRefetchInterval: Duration = .seconds(30)) {
        self.url = url
        self.http = http
        self.maxAge = maxAge
        self.minRefetchInterval = minRefetchInterval
    }

    /// The verified claims of `token`; 401 `INVALID_CREDENTIALS` for a bad signature, a
    /// malformed token, an algorithm that is not its key's, or a `kid` the issuer does not (or
    /// no longer) publish.
    func verify<Payload: JWTPayload>(_ token: String, as type: Payload.Type) async throws -> Payload {
        guard let (kid, algorithm) = Self.header(of: token), Self.algorithms.contains(algorithm) else {
            throw refused("no kid, or an algorithm not accepted")
        }
        var current = try await currentKeys()
        if current.algorithms[kid] == nil {
            guard let fresh = try await refetchIfAllowed(), fresh.algorithms[kid] != nil else { throw refused("unknown kid") }
            current = fresh
        }
        guard current.algorithms[kid] == algorithm else { throw refused("the header's algorithm is not the key's") }
        do {
            return try await current.collection.verify(token, as: Payload.self)
        } catch {
            throw AuthError(.invalidCredentials, cause: error)
        }
    }

    private func refused(_ reason: String) -> AuthError {
        AuthError(.invalidCredentials, cause: ProviderRefusal(provider: url, reason: reason))
    }

    /// The cached keys while fresh; else a fetch, or the stale keys when that fails.
    private func currentKeys() async throws -> Keys {
        let now = ContinuousClock.now
        if let keys, let fetchedAt, fetchedAt.duration(to: now) < maxAge { return keys }
        if let keys, let lastAttempt, lastAttempt.duration(to: now) < minRefetchInterval { return keys }
        do {
            return try await fetch()
        } catch {
            guard let keys else { throw error }
            return keys
        }
    }

    private func refetchIfAllowed() async throws -> Keys? {
        if waiters != nil { return try? await fetch() }  // joins the fetch in flight
        if let lastRefetch, lastRefetch.duration(to: .now) < minRefetchInterval { return nil }
        lastRefetch = .now
        return try? await fetch()
    }

    /// One fetch at a time: a caller arriving while one runs waits for its result.
    private func fetch() async throws -> Keys {
        if waiters != nil {
            return try await withCheckedThrowingContinuation { waiters?.append($0) }
        }
        waiters = []
        let result: Result<Keys, any Error>
        do { result = .success(try await download()) } catch { result = .failure(error) }
        let waiting = waiters ?? []
        waiters = nil
        for waiter in waiting { waiter.resume(with: result) }
        return try result.get()
    }

    /// The `kid` and `alg` of a compact JWS's header.
    static func header(of token: String) -> (kid: String, alg: String)? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
              let bytes = Base64URL.decode(String(header)), let json = try? JSONValue.parse(bytes: bytes),
              let kid = json.objectValue["kid"]?.stringValue, let alg = json.objectValue["alg"]?.stringValue
        else { return nil }
        return (kid, alg)
    }

    /// The algorithm a JWK is for: its `alg`, else what its key type implies.
    static func algorithm(of key: JSONObject) -> String? {
        if let alg = key["alg"]?.stringValue { return alg }
        switch (key["kty"]?.stringValue, key["crv"]?.stringValue) {
        case ("RSA", _): return "RS256"
        case ("EC", "P-256"): return "ES256"
        case ("EC", "P-384"): return "ES384"
        case ("EC", "P-521"): return "ES512"
        case ("OKP", "Ed25519"): return "EdDSA"
        default: return nil
        }
    }

    private func download() async throws -> Keys {
        lastAttempt = .now
        let reply = try await http.get(url)
        guard reply.status == 200 else {
            throw AuthError(.providerUnavailable, message: "The identity provider's keys could not be read (\(reply.status))", retryAfter: 5)
        }
        let collection = JWTKeyCollection()
        var algorithms: [String: String] = [:]
        // Keys authd cannot use (another kty, no kid, for encryption) are skipped, not fatal:
        // issuers publish encryption keys beside signing keys.
        for key in reply.body.objectValue["keys"]?.arrayValue ?? [] {
            var o = key.objectValue
            guard let kid = o["kid"]?.stringValue, o["use"]?.stringValue ?? "sig" == "sig", let alg = Self.algorithm(of: o),
                  Self.algorithms.contains(alg)
            else { continue }
            o["alg"] = .string(alg)
            guard let jwk = try? JSONDecoder().decode(JWK.self, from: Data(JSONValue.object(o).jsonText.utf8)),
                  (try? await collection.add(jwk: jwk)) != nil
            else { continue }
            algorithms[kid] = alg
        }
        guard !algorithms.isEmpty else {
            throw AuthError(.providerUnavailable, message: "The identity provider published no usable keys", retryAfter: 5)
        }
        let keys = Keys(collection: collection, algorithms: algorithms)
        self.keys = keys
        fetchedAt = .now
        return keys
    }
}
