import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// An OpenID Connect issuer (Google, Apple, or any issuer by configuration): the caller brings an
/// id token (`{idToken, nonce?}`), verified here against the issuer's JWKS — signature, `iss`,
/// `aud` (one of the configured client ids; `azp` too when several audiences), `exp`/`nbf`
/// with a minute of leeway, `nonce` when the caller gives one; or an authorization code
/// (`{code}`) exchanged at the issuer's token endpoint for one (Apple's web flow); or, where the
/// issuer offers it (Google), an access token (`{accessToken}`) checked at its token-info
/// endpoint and read at its userinfo endpoint.
public struct OIDCProvider: AuthProvider {
    /// How an authorization code is exchanged.
    public struct CodeExchange: Sendable {
        public var tokenURL: String
        public var clientID: String
        public var clientSecret: ClientSecret
        public var redirectURI: String?

        public init(tokenURL: String, clientID: String, clientSecret: ClientSecret, redirectURI: String? = nil) {
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
        }
    }

    /// The client's secret at the token endpoint: fixed, or (Apple) a short ES256 JWT signed with
    /// the team's key.
    public enum ClientSecret: Sendable {
        case fixed(String)
        case apple(teamID: String, keyID: String, key: ES256PrivateKey)
    }

    /// Google's access-token path.
    public struct AccessTokenCheck: Sendable {
        public var tokenInfoURL: String
        public var userInfoURL: String

        public init(tokenInfoURL: String, userInfoURL: String) {
            self.tokenInfoURL = tokenInfoURL
            self.userInfoURL = userInfoURL
        }
    }

    public let name: String
    public let skipMFA: Bool
    /// Accepted `iss` values (Google's tokens carry either form of its issuer).
    let issuers: [String]
    /// The client ids tokens must be issued to.
    let audiences: [String]
    let keys: JWKSCache
    let exchange: CodeExchange?
    let accessTokens: AccessTokenCheck?
    let http: ProviderHTTP
    /// Leeway for `exp`/`nbf`, for clocks a little apart.
    static let leeway: Double = 60

    public init(
        name: String, issuers: [String], audiences: [String], jwksURL: String, skipMFA: Bool, exchange: CodeExchange? = nil,
        accessTokens: AccessTokenCheck? = nil, http: ProviderHTTP = ProviderHTTP()
    ) {
        self.name = name
        self.issuers = issuers
        self.audiences = audiences
        self.skipMFA = skipMFA
        self.keys = JWKSCache(url: jwksURL, http: http)
        self.exchange = exchange
        self.accessTokens = accessTokens
        self.http = http
    }

    public var clientConfig: JSONObject {
        var o: JSONObject = ["kind": .string("oidc"), "issuer": .string(issuers[0])]
        if let first = audiences.first { o["clientId"] = .string(first) }
        o["credentials"] = .array(acceptedCredentials.map(JSONValue.string))
        return o
    }

    /// The credential fields this issuer takes (any one of them).
    var acceptedCredentials: [String] { ["idToken"] + (exchange != nil ? ["code"] : []) + (accessTokens != nil ? ["accessToken"] : []) }

    public func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity {
        if let token = credentials["idToken"]?.stringValue, !token.isEmpty {
            return try await verify(idToken: token, nonce: credentials["nonce"]?.stringValue, now: context.now)
        }
        if let exchange, let code = credentials["code"]?.stringValue, !code.isEmpty {
            return try await verify(idToken: try await exchangeCode(code, exchange, now: context.now), nonce: nil, now: context.now)
        }
        if let accessTokens, let token = credentials["accessToken"]?.stringValue, !token.isEmpty {
            return try await userInfo(accessToken: token, accessTokens)
        }
        throw AuthError(.missingRequiredFields, message: "\(name) credentials need one of: \(acceptedCredentials.joined(separator: ", "))")
    }

    /// The identity in a verified id token.
    func verify(idToken: String, nonce: String?, now: Date) async throws -> ExternalIdentity {
        let claims = try await keys.verify(idToken, as: OIDCClaims.self)
        let t = now.timeIntervalSince1970
        guard issuers.contains(claims.iss) else { throw refused("wrong issuer") }
        guard claims.aud.value.contains(where: audiences.contains) else { throw refused("wrong audience") }
        if claims.aud.value.count > 1, let azp = claims.azp, !audiences.contains(azp) { throw refused("wrong authorized party") }
        guard claims.exp + Self.leeway > t else { throw refused("expired") }
        if let nbf = claims.nbf, nbf - Self.leeway > t { throw refused("not yet valid") }
        if claims.nonce != nil, nonce == nil {
            // A token bound to a nonce is accepted only with it: a leaked token cannot be replayed
            // by leaving the nonce out.
            throw refused("the token carries a nonce the caller did not give")
        }
        if let nonce {
            // The raw nonce, or its SHA-256 in hex (Apple's and Firebase's clients send the hash).
            let hashed = Hex.encode(Array(SHA256.hash(data: Array(nonce.utf8))))
            guard let claimed = claims.nonce, ConstantTime.equals(claimed, nonce) || ConstantTime.equals(claimed, hashed) else {
                throw refused("nonce mismatch")
            }
        }
        guard !claims.sub.isEmpty, claims.sub.utf8.count <= 255 else { throw refused("no subject") }
        var profile: JSONObject = [:]
        if let name = claims.name { profile["name"] = .string(name) }
        if let picture = claims.picture { profile["picture"] = .string(picture) }
        return ExternalIdentity(
            subject: claims.sub, email: claims.email, emailVerified: claims.emailVerified?.value ?? false, profile: profile)
    }

    private func refused(_ reason: String) -> AuthError {
        AuthError(.invalidCredentials, cause: ProviderRefusal(provider: name, reason: reason))
    }

    /// The id token the issuer gives for `code`.
    private func exchangeCode(_ code: String, _ exchange: CodeExchange, now: Date) async throws -> String {
        let secret: String
        switch exchange.clientSecret {
        case .fixed(let value): secret = value
        case .apple(let teamID, let keyID, let key):
            secret = try await AppleClientSecret.make(teamID: teamID, keyID: keyID, clientID: exchange.clientID, key: key, now: now)
        }
        var fields = [
            ("grant_type", "authorization_code"), ("code", code), ("client_id", exchange.clientID), ("client_secret", secret),
        ]
        if let redirect = exchange.redirectURI { fields.append(("redirect_uri", redirect)) }
        let reply = try await http.post(exchange.tokenURL, contentType: "application/x-www-form-urlencoded", body: ProviderHTTP.form(fields))
        guard reply.status == 200, let idToken = reply.body.objectValue["id_token"]?.stringValue else {
            // RFC 6749 §5.2: `invalid_grant` is the user's (a used, expired or foreign code);
            // the other errors are the configuration's (client id, secret, redirect URI).
            if reply.status == 400, reply.body.objectValue["error"]?.stringValue == "invalid_grant" { throw refused("code refused") }
            throw AuthError(.providerUnavailable, message: "The code exchange failed (\(reply.status)); check the provider's configuration", retryAfter: 60)
        }
        return idToken
    }

    /// Google's access tokens: issued to one of our client ids (token info), then the profile.
    private func userInfo(accessToken: String, _ check: AccessTokenCheck) async throws -> ExternalIdentity {
        let info = try await http.get(check.tokenInfoURL + "?access_token=" + ProviderHTTP.escape(accessToken))
        let audience = info.body.objectValue["aud"]?.stringValue ?? info.body.objectValue["azp"]?.stringValue
        guard info.status == 200, let audience, audiences.contains(audience) else { throw refused("access token not issued to us") }
        let user = try await http.get(check.userInfoURL, headers: [("authorization", "Bearer " + accessToken)])
        let o = user.body.objectValue
        guard user.status == 200, let sub = o["sub"]?.stringValue, !sub.isEmpty else { throw refused("userinfo answered \(user.status)") }
        let verified = o["email_verified"]?.boolValue ?? (o["email_verified"]?.stringValue == "true")
        var profile: JSONObject = [:]
        if let name = o["name"]?.stringValue { profile["name"] = .string(name) }
        if let picture = o["picture"]?.stringValue { profile["picture"] = .string(picture) }
        return ExternalIdentity(subject: sub, email: o["email"]?.stringValue, emailVerified: verified, profile: profile)
    }
}

/// Why a provider refused a login (logged at debug level; the answer is `INVALID_CREDENTIALS`).
struct ProviderRefusal: Error, CustomStringConvertible {
    var provider: String
    var reason: String
    var description: String { "\(provider): \(reason)" }
}
