import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit
import Synchronization

/// Signs and verifies access tokens (jwt-kit, Ed25519 with `kid`) and mints and checks refresh
/// tokens (opaque, tagged; `RefreshToken`).
///
/// jwt-kit falls back to a default key for a token without a known `kid`; authd never wants
/// that, so the default is cleared after every load, tokens are always signed with an explicit
/// kid, and a token naming no kid or an unknown one is refused before jwt-kit sees it.
public final class TokenService: Sendable {
    struct Keys {
        var all: [SigningKey]
        var collection: JWTKeyCollection
        var loadedAt: ContinuousClock.Instant
        /// Last on-demand reload attempt (unknown kid), so a burst of such tokens costs one reload.
        var lastAttempt: ContinuousClock.Instant
    }

    public let settings: AuthSettings
    public let keyring: Keyring
    let keySource: SigningKeys
    private let keys: Mutex<Keys>
    /// Tokens whose signature was already checked, until their `exp` (DESIGN.md §6: hot paths
    /// skip the ~90 µs Ed25519 verify). Revocation is still checked on every request.
    private let verified = Mutex<[String: AccessTokenClaims]>([:])
    static let verifiedCacheLimit = 10_000

    private init(settings: AuthSettings, keyring: Keyring, keys keySource: SigningKeys, loaded: Keys) {
        self.settings = settings
        self.keyring = keyring
        self.keySource = keySource
        self.keys = Mutex(loaded)
    }

    /// Loads the signing keys, creating the signing and the next key if the database has none.
    public static func start(settings: AuthSettings, keyring: Keyring, keys: SigningKeys) async throws -> TokenService {
        let all = try await keys.loadOrCreate()
        return TokenService(settings: settings, keyring: keyring, keys: keys, loaded: try await makeKeys(all))
    }

    /// Re-reads the keys (after `authd keys rotate`, or when a token names a kid not yet seen).
    public func reload() async throws {
        var fresh = try await Self.makeKeys(try await keySource.load())
        keys.withLock { k in
            fresh.lastAttempt = k.lastAttempt
            k = fresh
        }
        // A key may have been retired: re-check every cached token against the new key set.
        verified.withLock { $0.removeAll() }
    }

    private static func makeKeys(_ all: [SigningKey]) async throws -> Keys {
        let collection = JWTKeyCollection()
        for key in all {
            if let privateKey = key.privateKey {
                await collection.add(eddsa: EdDSA.PrivateKey(backing: privateKey), kid: JWKIdentifier(string: key.kid))
            } else {
                await collection.add(eddsa: EdDSA.PublicKey(backing: key.publicKey), kid: JWKIdentifier(string: key.kid))
            }
        }
        // jwt-kit made the first key the default: a token with no or an unknown kid would be
        // checked against it. authd names its keys explicitly, always.
        _ = await collection.clearDefault()
        return Keys(all: all, collection: collection, loadedAt: .now, lastAttempt: .now)
    }

    /// The JWKS document: every key that still verifies, the next one included (it signs only
    /// after a rotation, by which time every cache of this document holds it).
    public var jwks: JSONObject {
        let now = Date()
        return ["keys": .array(keys.withLock { $0.all }.filter { $0.verifies(at: now) }.map { .object($0.jwk) })]
    }

    /// Signs claims with the newest active key.
    public func sign(_ claims: AccessTokenClaims) async throws -> String {
        let now = Date()
        let (collection, kid) = keys.withLock { k in
            (k.collection, k.all.filter { $0.isActive(at: now) }.max { ($0.activatesAt ?? .distantPast) < ($1.activatesAt ?? .distantPast) }?.kid)
        }
        guard let kid else { throw AuthError.internalError("no active signing key") }
        var header = JWTHeader()
        header.typ = "JWT"
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid), header: header)
    }

    /// Verifies an access token: signature by a known kid, `type == access`, issuer, audience,
    /// not before, expiry. Throws 401 `TOKEN_EXPIRED` for an authentic expired token and 401
    /// `INVALID_TOKEN` for anything else.
    /// `allowExpired` accepts an authentic expired token (logout only: ending a session must
    /// work after its access token lapsed).
    public func verifyAccess(_ token: String, now: Date = Date(), allowExpired: Bool = false) async throws -> AccessTokenClaims {
        if let cached = verified.withLock({ $0[token] }) {
            if allowExpired || cached.expiresAt > now { return cached }
            verified.withLock { _ = $0.removeValue(forKey: token) }
            throw AuthError.tokenExpired
        }
        let claims = try await verifySignature(token, now: now, allowExpired: allowExpired)
        if claims.expiresAt > now {
            verified.withLock { cache in
                // Bounded: when full, start over (entries are cheap to rebuild, one verify each).
                if cache.count >= Self.verifiedCacheLimit { cache.removeAll(keepingCapacity: true) }
                cache[token] = claims
            }
        }
        return claims
    }

    private func verifySignature(_ token: String, now: Date, allowExpired: Bool) async throws -> AccessTokenClaims {
        guard token.utf8.count < 8192, let kid = Self.headerKid(token) else { throw AuthError.invalidToken }
        var known = keys.withLock { k in k.all.contains { $0.kid == kid && $0.verifies(at: now) } }
        if !known {
            // A kid we have not seen may come from a key rotated in by another process.
            let attempt = keys.withLock { k -> Bool in
                guard ContinuousClock.now - k.lastAttempt > .seconds(5) else { return false }
                k.lastAttempt = .now
                return true
            }
            if attempt { try? await reload() }
            known = keys.withLock { k in k.all.contains { $0.kid == kid && $0.verifies(at: now) } }
            guard known else { throw AuthError.invalidToken }
        }
        let collection = keys.withLock { $0.collection }
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw AuthError.invalidToken
        }
        guard claims.type == "access", claims.issuer == settings.issuer, claims.audience == settings.audience
        else { throw AuthError.invalidToken }
        if let nbf = claims.notBefore, nbf > now.addingTimeInterval(30) { throw AuthError.invalidToken }
        guard allowExpired || claims.expiresAt > now else { throw AuthError.tokenExpired }
        return claims
    }

    /// Mints a refresh token tagged with the keyring's current key.
    public func mintRefresh(tenantID: UUID, sessionID: UUID, generation: Int) throws -> RefreshToken {
        try RefreshToken.mint(tenantID: tenantID, sessionID: sessionID, generation: generation, keyring: keyring)
    }

    /// Parses a refresh token and checks its tag; nil when it is not one of ours.
    public func parseRefresh(_ value: String) -> RefreshToken? {
        RefreshToken.verify(value, keyring: keyring)
    }

    /// The session a refresh token names, when its tag is ours (no database read).
    public func sessionID(ofRefreshToken value: String) -> UUID? {
        parseRefresh(value)?.sessionID
    }

    /// CSRF tokens under this service's keyring.
    public var csrf: CSRFTokens { CSRFTokens(keyring: keyring) }

    /// The `kid` of a compact JWS header, or nil when absent or unreadable.
    static func headerKid(_ token: String) -> String? {
        guard let dot = token.firstIndex(of: "."), let bytes = Base64URL.decode(String(token[..<dot])),
              case .object(let header) = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)),
              case .string(let kid) = header["kid"], !kid.isEmpty
        else { return nil }
        return kid
    }
}
