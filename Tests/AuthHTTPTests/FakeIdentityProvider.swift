import AuthCore
import AuthCrypto
import Crypto
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Identity providers on loopback, in the test process: an OIDC issuer (its JWKS, a token
/// endpoint checking Apple-style client secrets, Google-style tokeninfo/userinfo), GitHub's and
/// Facebook's user APIs, and an operator's signed login endpoint. Everything they check, they
/// check as the real ones document it; what they answer is set by each test.
final class FakeIdentityProvider: Sendable {
    struct State {
        var jwksFetches = 0
        /// The kids the JWKS publishes (a rotation adds one).
        var published: [String] = ["k1", "rs"]
        var githubUsers: [String: (id: Int, login: String, emails: [(String, primary: Bool, verified: Bool)])] = [:]
        var githubAppTokens: Set<String> = []
        var facebookUsers: [String: (id: String, email: String?, app: String)] = [:]
        var customCalls: [(headers: HTTPFields, body: String)] = []
        var customStatus = 200
        var exchangedCodes: [String: String] = [:]
    }

    static let issuer = "https://issuer.test"
    static let clientID = "authd-test-client"
    static let githubClient = (id: "gh-client", secret: "gh-secret")
    static let facebookApp = (id: "fb-app", secret: "fb-secret")
    static let appleTeam = (team: "TEAM123", key: "APPLEKEY1")

    let keys: [String: ES256PrivateKey] = ["k1": ES256PrivateKey(), "k2": ES256PrivateKey(), "rogue": ES256PrivateKey()]
    /// An RSA issuer key (kid "rs"), as Google's are.
    let rsaKey: JWTKit.Insecure.RSA.PrivateKey
    /// The key of the Apple developer account (signs client secrets).
    let appleKey = ES256PrivateKey()
    let customSecretBytes: [UInt8]
    let state = Mutex(State())
    /// The loopback port, known once the server runs.
    let port = Mutex(0)
    var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 })" }

    private init(customSecretBytes: [UInt8]) throws {
        self.customSecretBytes = customSecretBytes
        rsaKey = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    var customSecret: String { "whsec_" + Base64.encode(customSecretBytes) }

    /// The configuration (`AUTH_PROVIDERS` form) pointing every provider kind at this fake.
    var providersConfig: JSONObject {
        [
            "oidc:test": .object([
                "issuer": .string(Self.issuer), "clientIds": .array([.string(Self.clientID)]), "jwksUrl": .string(baseURL + "/jwks"),
            ]),
            "google": .object([
                "clientIds": .array([.string(Self.clientID)]), "issuer": .string(Self.issuer), "jwksUrl": .string(baseURL + "/jwks"),
                "tokenInfoUrl": .string(baseURL + "/tokeninfo"), "userInfoUrl": .string(baseURL + "/userinfo"),
            ]),
            "apple": .object([
                "clientIds": .array([.string(Self.clientID)]), "issuer": .string(Self.issuer), "jwksUrl": .string(baseURL + "/jwks"),
                "tokenUrl": .string(baseURL + "/token"), "teamId": .string(Self.appleTeam.team), "keyId": .string(Self.appleTeam.key),
                "privateKey": .string(appleKeyPEM),
            ]),
            "github": .object([
                "apiUrl": .string(baseURL + "/github"), "clientId": .string(Self.githubClient.id),
                "clientSecret": .string(Self.githubClient.secret),
            ]),
            "facebook": .object([
                "graphUrl": .string(baseURL + "/facebook"), "appId": .string(Self.facebookApp.id), "appSecret": .string(Self.facebookApp.secret),
            ]),
            "partner": .object([
                "kind": .string("http"), "url": .string(baseURL + "/partner/login"), "secret": .string(customSecret),
                "requiredFields": .array([.string("username"), .string("password")]),
            ]),
        ]
    }

    var appleKeyPEM: String { (try? appleKey.pemRepresentation) ?? "" }

    /// The providers of `providersConfig`, ready for `AuthSettings.providers`.
    func registry(extra: [any AuthProvider] = []) throws -> ProviderRegistry {
        try ProviderRegistry(try ProviderCatalog.providers(from: providersConfig) + extra)
    }

    struct IDClaims: JWTPayload {
        var iss: String
        var sub: String
        var aud: [String]
        var exp: Int
        var iat: Int
        var nonce: String?
        var email: String?
        var email_verified: Bool?
        var name: String?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// An id token as the issuer would sign it; each argument can be made wrong.
    func idToken(
        sub: String, email: String? = nil, verified: Bool? = true, audience: String = clientID, issuer: String = issuer,
        expiresIn: Int = 300, nonce: String? = nil, kid: String = "k1", rsaDigest: DigestAlgorithm = .sha256
    ) async throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        let collection = kid == "rs"
            ? await JWTKeyCollection().add(rsa: rsaKey, digestAlgorithm: rsaDigest, kid: JWKIdentifier(string: kid))
            : await JWTKeyCollection().add(ecdsa: keys[kid]!, kid: JWKIdentifier(string: kid))
        return try await collection.sign(
            IDClaims(
                iss: issuer, sub: sub, aud: [audience], exp: now + expiresIn, iat: now, nonce: nonce, email: email, email_verified: verified,
                name: "Test User"),
            kid: JWKIdentifier(string: kid))
    }

    private func jwks() -> String {
        let kids = state.withLock { s -> [String] in
            s.jwksFetches += 1
            return s.published
        }
        let entries = kids.map { kid -> String in
            if kid == "rs", let (n, e) = try? rsaKey.publicKey.getKeyPrimitives() {
                return #"{"kty":"RSA","use":"sig","kid":"rs","n":"\#(Base64URL.encode(Array(n)))","e":"\#(Base64URL.encode(Array(e)))"}"#
            }
            let p = keys[kid]!.publicKey.parameters!
            return #"{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(kid)","x":"\#(p.x)","y":"\#(p.y)"}"#
        }
        // A key authd cannot use sits beside them, as issuers publish encryption keys too.
        return #"{"keys":[\#(entries.joined(separator: ",")),{"kty":"oct","kid":"enc","k":"c2VjcmV0"}]}"#
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/jwks") { _, _ in self.json(self.jwks()) }
        // Apple's token endpoint: the client secret must be an ES256 JWT by the team's key.
        router.post("/token") { request, _ -> Response in
            let form = Self.form(String(buffer: try await request.body.collect(upTo: 1 << 16)))
            let verifier = await JWTKeyCollection().add(ecdsa: self.appleKey.publicKey, kid: JWKIdentifier(string: Self.appleTeam.key))
            guard form["grant_type"] == "authorization_code", form["client_id"] == Self.clientID, let secret = form["client_secret"],
                  let claims = try? await verifier.verify(secret, as: AppleSecretClaims.self), claims.iss == Self.appleTeam.team,
                  claims.sub == Self.clientID, claims.aud == "https://appleid.apple.com",
                  let code = form["code"], let idToken = self.state.withLock({ $0.exchangedCodes.removeValue(forKey: code) })
            else { return self.json(#"{"error":"invalid_grant"}"#, status: .badRequest) }
            return self.json(#"{"access_token":"at","token_type":"Bearer","id_token":"\#(idToken)"}"#)
        }
        router.get("/tokeninfo") { request, _ -> Response in
            let token = request.uri.queryParameters.get("access_token") ?? ""
            guard token.hasPrefix("google-") else { return self.json(#"{"error":"invalid_token"}"#, status: .badRequest) }
            let aud = token.hasPrefix("google-other") ? "someone-else" : Self.clientID
            return self.json(#"{"aud":"\#(aud)","azp":"\#(aud)","expires_in":"3000"}"#)
        }
        router.get("/userinfo") { request, _ -> Response in
            guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer google-") else { return self.json("{}", status: .unauthorized) }
            let who = String(auth.dropFirst("Bearer google-".count))
            return self.json(#"{"sub":"g-\#(who)","email":"\#(who)@gmail.test","email_verified":true,"name":"\#(who)"}"#)
        }
        router.post("/github/applications/:client/token") { request, context -> Response in
            let basic = "Basic " + Base64.encode(Array("\(Self.githubClient.id):\(Self.githubClient.secret)".utf8))
            let body = try JSONValue.parse(String(buffer: try await request.body.collect(upTo: 1 << 16))).objectValue
            guard context.parameters.get("client") == Self.githubClient.id, request.headers[.authorization] == basic,
                  let token = body["access_token"]?.stringValue, self.state.withLock({ $0.githubAppTokens.contains(token) })
            else { return self.json(#"{"message":"Not Found"}"#, status: .notFound) }
            return self.json(#"{"id":1}"#)
        }
        router.get("/github/user") { request, _ -> Response in
            guard let user = self.githubUser(request) else { return self.json(#"{"message":"Bad credentials"}"#, status: .unauthorized) }
            return self.json(#"{"id":\#(user.id),"login":"\#(user.login)","name":null,"email":null}"#)
        }
        router.get("/github/user/emails") { request, _ -> Response in
            guard let user = self.githubUser(request) else { return self.json(#"{"message":"Bad credentials"}"#, status: .unauthorized) }
            let list = user.emails.map { #"{"email":"\#($0.0)","primary":\#($0.primary),"verified":\#($0.verified)}"# }
            return self.json("[" + list.joined(separator: ",") + "]")
        }
        router.get("/facebook/debug_token") { request, _ -> Response in
            let q = request.uri.queryParameters
            guard q.get("access_token") == "\(Self.facebookApp.id)|\(Self.facebookApp.secret)", let token = q.get("input_token"),
                  let user = self.state.withLock({ $0.facebookUsers[token] })
            else { return self.json(#"{"data":{"is_valid":false}}"#) }
            return self.json(#"{"data":{"is_valid":true,"app_id":"\#(user.app)","user_id":"\#(user.id)"}}"#)
        }
        router.get("/facebook/me") { request, _ -> Response in
            let q = request.uri.queryParameters
            guard let token = q.get("access_token"), let user = self.state.withLock({ $0.facebookUsers[token] }) else {
                return self.json(#"{"error":{"message":"Invalid OAuth access token"}}"#, status: .badRequest)
            }
            let proof = HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: SymmetricKey(data: Array(Self.facebookApp.secret.utf8)))
            guard q.get("appsecret_proof") == proof.map({ String(format: "%02x", $0) }).joined() else {
                return self.json(#"{"error":{"message":"Invalid appsecret_proof"}}"#, status: .badRequest)
            }
            let email = user.email.map { #","email":"\#($0)""# } ?? ""
            return self.json(#"{"id":"\#(user.id)","name":"FB User"\#(email)}"#)
        }
        // The operator's login endpoint: verifies the Standard Webhooks signature first.
        router.post("/partner/login") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            self.state.withLock { $0.customCalls.append((request.headers, body)) }
            let status = self.state.withLock { $0.customStatus }
            guard status == 200 else { return self.json("{}", status: .init(code: status)) }
            guard let id = request.headers[HTTPField.Name("webhook-id")!], let ts = request.headers[HTTPField.Name("webhook-timestamp")!],
                  let signature = request.headers[HTTPField.Name("webhook-signature")!],
                  signature == "v1," + Base64.encode(Array(HMAC<SHA256>.authenticationCode(
                    for: Array("\(id).\(ts).\(body)".utf8), using: SymmetricKey(data: self.customSecretBytes))))
            else { return self.json(#"{"error":"bad signature"}"#, status: .forbidden) }
            let credentials = try JSONValue.parse(body).objectValue["credentials"]?.objectValue ?? [:]
            guard credentials["password"]?.stringValue == "right" else { return self.json("{}", status: .unauthorized) }
            let user = credentials["username"]?.stringValue ?? ""
            return self.json(#"{"providerUserId":"p-\#(user)","email":"\#(user)@partner.test","profile":{"username":"\#(user)"}}"#)
        }
        return router
    }

    struct AppleSecretClaims: JWTPayload {
        var iss: String
        var sub: String
        var aud: String
        var exp: Int
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private func githubUser(_ request: Request) -> (id: Int, login: String, emails: [(String, primary: Bool, verified: Bool)])? {
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") else { return nil }
        return state.withLock { $0.githubUsers[String(auth.dropFirst(7))] }
    }

    private func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func form(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if parts.count == 2 { out[parts[0]] = parts[1] }
        }
        return out
    }

    /// Runs the fake on a loopback port for `body`.
    static func with<T: Sendable>(_ body: @escaping @Sendable (FakeIdentityProvider) async throws -> T) async throws -> T {
        let fake = try FakeIdentityProvider(customSecretBytes: try SecureRandom.bytes(32))
        return try await LoopbackServer.with(fake.router(), label: "fake-idp") { port in
            fake.port.withLock { $0 = port }
            return try await body(fake)
        }
    }
}
