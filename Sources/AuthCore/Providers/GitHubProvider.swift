import AuthCrypto
/// GitHub (nest-auth's `github`): the caller brings an OAuth access token (`{accessToken}`);
/// authd asks GitHub's API who it belongs to (`/user`) and which addresses GitHub verified
/// (`/user/emails`: the primary one, if verified). It first checks, with the OAuth app's client id
/// and secret (required), that the token was issued to that app
/// (`POST /applications/{client_id}/token`): a token any other app a user authorised obtained
/// cannot log in as them.
/// No `skipMfa` unless configured (as nest-auth).
public struct GitHubProvider: AuthProvider {
    public let name: String
    public let skipMFA: Bool
    let apiURL: String
    let app: (clientID: String, clientSecret: String)
    let http: ProviderHTTP

    public init(name: String = "github", apiURL: String = "https://api.github.com", app: (clientID: String, clientSecret: String),
                skipMFA: Bool = false, http: ProviderHTTP = ProviderHTTP()) {
        self.name = name
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.app = app
        self.skipMFA = skipMFA
        self.http = http
    }

    public var requiredFields: [String] { ["accessToken"] }

    public var clientConfig: JSONObject {
        ["kind": .string("github"), "clientId": .string(app.clientID), "credentials": .array([.string("accessToken")])]
    }

    public func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity {
        guard let token = credentials["accessToken"]?.stringValue, !token.isEmpty else { throw AuthError(.missingRequiredFields) }
        let auth = [("authorization", "Bearer " + token), ("x-github-api-version", "2022-11-28")]
        let basic = "Basic " + Base64.encode(Array((app.clientID + ":" + app.clientSecret).utf8))
        let check = try await http.post(
            "\(apiURL)/applications/\(ProviderHTTP.escape(app.clientID))/token", contentType: "application/json",
            body: JSONValue.object(["access_token": .string(token)]).jsonText, headers: [("authorization", basic)])
        if check.status == 401 || check.status == 403 {
            // GitHub refused authd's own client credentials: the operator's mistake, not the user's.
            throw AuthError(.providerUnavailable, message: "GitHub refused the configured OAuth app credentials", retryAfter: 60)
        }
        guard check.status == 200 else { throw refused("token not issued to this app (\(check.status))") }
        let user = try await http.get("\(apiURL)/user", headers: auth)
        guard user.status == 200, let id = user.body.objectValue["id"]?.intValue else { throw refused("/user answered \(user.status)") }
        let emails = try await http.get("\(apiURL)/user/emails", headers: auth)
        let primary = (emails.body.arrayValue ?? []).map(\.objectValue).first { $0["primary"]?.boolValue == true }
        var profile: JSONObject = [:]
        for key in ["login", "name", "avatar_url"] { if let v = user.body.objectValue[key]?.stringValue { profile[key] = .string(v) } }
        if let primary, let email = primary["email"]?.stringValue {
            return ExternalIdentity(subject: String(id), email: email, emailVerified: primary["verified"]?.boolValue == true, profile: profile)
        }
        // No e-mail scope: the profile's public address, which GitHub does not vouch for here.
        return ExternalIdentity(subject: String(id), email: user.body.objectValue["email"]?.stringValue, emailVerified: false, profile: profile)
    }

    private func refused(_ reason: String) -> AuthError {
        AuthError(.invalidCredentials, cause: ProviderRefusal(provider: name, reason: reason))
    }
}
