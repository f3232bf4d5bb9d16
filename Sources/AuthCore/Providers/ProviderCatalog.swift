import JWTKit

/// Builds providers from configuration (`AUTH_PROVIDERS`, a JSON object keyed by provider
/// name). The kind follows from the name (`google`, `apple`, `github`, `facebook`, `oidc:<name>`)
/// or from `"kind"` (`google`, `apple`, `github`, `facebook`, `oidc`, `http`). Unknown keys are
/// refused, so a misspelt option fails the start instead of being ignored. Base URLs can be
/// overridden (tests use loopback fakes; GitHub Enterprise has its own API URL).
public enum ProviderCatalog {
    public static func providers(from config: JSONObject, http: ProviderHTTP = ProviderHTTP()) throws -> [any AuthProvider] {
        try config.keys.sorted().map { name in
            guard case .object(let o)? = config[name] else { throw ProviderConfigurationError("\(name): must be an object") }
            return try provider(name: name, Options(name: name, o), http: http)
        }
    }

    private static func provider(name: String, _ o: Options, http: ProviderHTTP) throws -> any AuthProvider {
        let kind = try o.string("kind") ?? (name.hasPrefix("oidc:") ? "oidc" : name)
        switch kind {
        case "google":
            try o.allow(["kind", "clientIds", "issuer", "jwksUrl", "tokenInfoUrl", "userInfoUrl", "skipMfa"])
            let issuer = try o.string("issuer")
            return OIDCProvider(
                name: name, issuers: issuer.map { [$0] } ?? ["https://accounts.google.com", "accounts.google.com"],
                audiences: try o.required(o.strings("clientIds"), "clientIds"),
                jwksURL: try o.url("jwksUrl") ?? "https://www.googleapis.com/oauth2/v3/certs", skipMFA: try o.bool("skipMfa") ?? true,
                accessTokens: .init(
                    tokenInfoURL: try o.url("tokenInfoUrl") ?? "https://oauth2.googleapis.com/tokeninfo",
                    userInfoURL: try o.url("userInfoUrl") ?? "https://openidconnect.googleapis.com/v1/userinfo"),
                http: http)
        case "apple":
            try o.allow(["kind", "clientIds", "issuer", "jwksUrl", "tokenUrl", "teamId", "keyId", "privateKey", "redirectUri", "skipMfa"])
            let audiences = try o.required(o.strings("clientIds"), "clientIds")
            var exchange: OIDCProvider.CodeExchange?
            if let teamID = try o.string("teamId") {
                let keyID = try o.required(o.string("keyId"), "keyId")
                let pem = try o.required(o.string("privateKey"), "privateKey")
                let key: ES256PrivateKey
                do { key = try ES256PrivateKey(pem: pem) } catch { throw ProviderConfigurationError("\(name).privateKey: not a P-256 PEM key") }
                exchange = .init(
                    tokenURL: try o.url("tokenUrl") ?? "https://appleid.apple.com/auth/token", clientID: audiences[0],
                    clientSecret: .apple(teamID: teamID, keyID: keyID, key: key), redirectURI: try o.string("redirectUri"))
            }
            return OIDCProvider(
                name: name, issuers: [try o.string("issuer") ?? "https://appleid.apple.com"], audiences: audiences,
                jwksURL: try o.url("jwksUrl") ?? "https://appleid.apple.com/auth/keys", skipMFA: try o.bool("skipMfa") ?? true,
                exchange: exchange, http: http)
        case "oidc":
            try o.allow(["kind", "issuer", "clientIds", "jwksUrl", "tokenUrl", "clientSecret", "redirectUri", "skipMfa"])
            let audiences = try o.required(o.strings("clientIds"), "clientIds")
            var exchange: OIDCProvider.CodeExchange?
            if let tokenURL = try o.url("tokenUrl") {
                exchange = .init(
                    tokenURL: tokenURL, clientID: audiences[0], clientSecret: .fixed(try o.required(o.string("clientSecret"), "clientSecret")),
                    redirectURI: try o.string("redirectUri"))
            }
            return OIDCProvider(
                name: name, issuers: [try o.required(o.string("issuer"), "issuer")], audiences: audiences,
                jwksURL: try o.required(o.url("jwksUrl"), "jwksUrl"), skipMFA: try o.bool("skipMfa") ?? false, exchange: exchange, http: http)
        case "github":
            try o.allow(["kind", "clientId", "clientSecret", "apiUrl", "skipMfa"])
            // The app's credentials are required: without them a token any other app obtained
            // would log its user in here.
            return GitHubProvider(
                name: name, apiURL: try o.url("apiUrl") ?? "https://api.github.com",
                app: (try o.required(o.string("clientId"), "clientId"), try o.required(o.string("clientSecret"), "clientSecret")),
                skipMFA: try o.bool("skipMfa") ?? false, http: http)
        case "facebook":
            try o.allow(["kind", "appId", "appSecret", "graphUrl", "skipMfa"])
            return FacebookProvider(
                name: name, graphURL: try o.url("graphUrl") ?? "https://graph.facebook.com/v19.0",
                appID: try o.required(o.string("appId"), "appId"), appSecret: try o.required(o.string("appSecret"), "appSecret"),
                skipMFA: try o.bool("skipMfa") ?? true, http: http)
        case "http":
            try o.allow(["kind", "url", "secret", "requiredFields", "skipMfa"])
            guard let secret = StandardWebhooks.Secret(try o.required(o.string("secret"), "secret")) else {
                throw ProviderConfigurationError("\(name).secret: must be whsec_ + base64 of at least 24 bytes")
            }
            return HTTPAuthProvider(
                name: name, url: try o.required(o.url("url"), "url"), secret: secret, requiredFields: try o.strings("requiredFields") ?? [],
                skipMFA: try o.bool("skipMfa") ?? false, http: http)
        default:
            throw ProviderConfigurationError("\(name): unknown kind \(kind) (google, apple, github, facebook, oidc, http)")
        }
    }

    /// One provider's options, read strictly.
    struct Options {
        let name: String
        let o: JSONObject
        init(name: String, _ o: JSONObject) {
            self.name = name
            self.o = o
        }

        func allow(_ keys: Set<String>) throws {
            if let bad = o.keys.sorted().first(where: { !keys.contains($0) }) {
                throw ProviderConfigurationError("\(name).\(bad): not an option here (\(keys.sorted().joined(separator: ", ")))")
            }
        }

        func string(_ key: String) throws -> String? {
            guard let v = o[key], v != .null else { return nil }
            guard let s = v.stringValue, !s.isEmpty else { throw ProviderConfigurationError("\(name).\(key): must be a non-empty string") }
            return s
        }

        /// A URL authd calls: https, or http to this machine (tests, sidecars).
        func url(_ key: String) throws -> String? {
            guard let text = try string(key) else { return nil }
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].contains { text.hasPrefix($0 + ":") || text.hasPrefix($0 + "/") }
            guard text.hasPrefix("https://") || loopback else {
                throw ProviderConfigurationError("\(name).\(key): must be an https URL (http only to this machine)")
            }
            return text
        }

        func strings(_ key: String) throws -> [String]? {
            guard let v = o[key], v != .null else { return nil }
            if let s = v.stringValue {
                guard !s.isEmpty else { throw ProviderConfigurationError("\(name).\(key): must not be empty") }
                return [s]
            }
            guard let a = v.arrayValue, !a.isEmpty, a.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
                throw ProviderConfigurationError("\(name).\(key): must be a list of non-empty strings")
            }
            return a.compactMap(\.stringValue)
        }

        func bool(_ key: String) throws -> Bool? {
            guard let v = o[key], v != .null else { return nil }
            guard let b = v.boolValue else { throw ProviderConfigurationError("\(name).\(key): must be true or false") }
            return b
        }

        func required<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw ProviderConfigurationError("\(name).\(key): required") }
            return value
        }
    }
}
