import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit
import NIOCore
import Synchronization

/// authd's access-token keys, fetched from its JWKS and kept for `maxAge`. authd publishes the
/// next key long before it signs, so a rotation is normally followed without a fetch; a token
/// naming an unknown `kid` causes one refetch, at most once per `minRefetchInterval` (tokens
/// with made-up kids cost authd one request per interval, not one per request). A failed fetch
/// keeps the keys already known.
actor JWKSKeyring {
    struct Keys {
        let collection: JWTKeyCollection
        let kids: Set<String>
    }

    let url: String
    let http: HTTPClient
    let maxAge: Duration
    let minRefetchInterval: Duration
    private var keys: Keys?
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    /// When an unknown `kid` last caused a fetch.
    private var lastRefetch: ContinuousClock.Instant?
    /// Callers waiting for the fetch in flight (nil: none running): a cold start under load
    /// makes one request, not one per request in flight.
    private var waiters: [CheckedContinuation<Keys, any Error>]?
    /// Documents downloaded so far (for tests and metrics).
    private(set) var fetches = 0
    /// The kids of the last document, readable without a hop onto the actor: the verifier's
    /// cache of checked tokens honours a token only while its key is still published.
    nonisolated let published = Mutex<Set<String>>([])
    /// Set while `AuthClient.services` refresh the document in the background: requests then
    /// never wait for a scheduled fetch, only for one an unknown `kid` causes.
    nonisolated let refreshedInBackground = Mutex(false)

    init(url: String, http: HTTPClient, maxAge: Duration, minRefetchInterval: Duration) {
        self.url = url
        self.http = http
        self.maxAge = maxAge
        self.minRefetchInterval = minRefetchInterval
    }

    /// The claims of `token` once its signature checks out against a published key.
    /// 401 `INVALID_TOKEN` for anything else; 503 when no key was ever read.
    func verify(_ token: String) async throws -> AuthClaims {
        // authd signs with Ed25519 only: any other header algorithm is refused before a key is chosen.
        guard let kid = Self.kid(of: token) else { throw AuthClientError.invalidToken }
        var current = try await currentKeys()
        if !current.kids.contains(kid) {
            guard let fresh = await refetchIfAllowed(), fresh.kids.contains(kid) else { throw AuthClientError.invalidToken }
            current = fresh
        }
        do {
            return try await current.collection.verify(token, as: AuthClaims.self)
        } catch {
            throw AuthClientError.invalidToken
        }
    }

    /// The cached keys while fresh; else a fetch, or the stale keys when that fails.
    private func currentKeys() async throws -> Keys {
        let now = ContinuousClock.now
        if let keys, refreshedInBackground.withLock({ $0 }) { return keys }
        if let keys, let fetchedAt, fetchedAt.duration(to: now) < maxAge { return keys }
        if let keys, let lastAttempt, lastAttempt.duration(to: now) < minRefetchInterval { return keys }
        do {
            return try await fetch()
        } catch {
            guard let keys else { throw AuthClientError.unavailable }
            return keys
        }
    }

    /// A scheduled fetch (the background refresher): failures keep the known keys.
    func refresh() async {
        _ = try? await fetch()
    }

    private func refetchIfAllowed() async -> Keys? {
        if waiters != nil { return try? await fetch() }
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

    /// The `kid` of a compact JWS whose header says `alg: EdDSA`.
    nonisolated static func kid(of token: String) -> String? {
        struct Header: Decodable {
            var alg: String
            var kid: String
        }
        guard let first = token.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first, first.utf8.count <= 1024,
              let data = Base64URLText.decode(String(first)), let header = try? JSONDecoder().decode(Header.self, from: data),
              header.alg == "EdDSA"
        else { return nil }
        return header.kid
    }

    /// One JWK of the document; fields authd does not publish are ignored.
    struct JWK: Decodable {
        var kty: String?
        var crv: String?
        var x: String?
        var kid: String?
        var use: String?
        var alg: String?
    }

    struct Document: Decodable {
        var keys: [JWK]
    }

    private func download() async throws -> Keys {
        lastAttempt = .now
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "accept", value: "application/json")
        let (http, prepared) = (http, request)
        // One deadline for head and body: AsyncHTTPClient's timeout covers the head only.
        let (status, body) = try await withThrowingTaskGroup(of: (UInt, ByteBuffer)?.self) { group in
            group.addTask {
                let response = try await http.execute(prepared, timeout: .seconds(5))
                return (response.status.code, try await response.body.collect(upTo: 256 * 1024))
            }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw AuthClientError.unavailable }
            return result
        }
        guard status == 200 else { throw AuthClientError.unavailable }
        let document = try JSONDecoder().decode(Document.self, from: Data(body.readableBytesView))
        let collection = JWTKeyCollection()
        // No default key: a token naming an unknown kid must find nothing, not the first key.
        var kids: Set<String> = []
        for jwk in document.keys {
            guard jwk.kty == "OKP", jwk.crv == "Ed25519", jwk.use ?? "sig" == "sig", jwk.alg ?? "EdDSA" == "EdDSA",
                  let kid = jwk.kid, let x = jwk.x, let key = try? EdDSA.PublicKey(x: x, curve: .ed25519)
            else { continue }
            await collection.add(eddsa: key, kid: JWKIdentifier(string: kid))
            kids.insert(kid)
        }
        guard !kids.isEmpty else { throw AuthClientError.unavailable }
        _ = await collection.clearDefault()
        published.withLock { $0 = kids }
        let keys = Keys(collection: collection, kids: kids)
        self.keys = keys
        fetchedAt = .now
        fetches += 1
        return keys
    }
}
