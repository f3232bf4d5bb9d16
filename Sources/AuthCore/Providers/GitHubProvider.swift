import AuthCrypto
/// GitHub (nest-auth's `github`): the caller brings an OAuth access token (`{accessToken}`);
/// authd asks GitHub's API who it belongs to (`/user`) and which addresses GitHub verified
/// (`/user/emails`: the primary one, if verified). With the OAuth app's client id and secret
/// configured, it first checks the token was issued to that app
/// (`POST /applications/{client_id}/token`), so a token another app obtained cannot log in.
/// No `skipMfa` unless configured (as nest-auth).
public struct GitHubProvider: AuthProvider {
    public let name: String
    public let skipMFA: Bool
    let apiURL: String
    let app: (clientID: String, clientSecret: String)?
    let http: ProviderHTTP

    public init(name: String = "github", apiURL: String = "https://api.github.com", app: (clientID: String, clientSecret: String)?,
                skipMFA: Bool = false, http: ProviderHTTP = ProviderHTTP()) {
        self.name = name
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.app = app
        self.skipMFA = skipMFA
        self.http = http
    }

    public var requiredFields: [String] { ["accessToken"] }

    public var clientConfig: JSONObject {
        var o: JSONObject = ["kind": .string("github"), "credentials": .array([.string("accessToken")])]
        if let app { o["clientId"] = .string(app.clientID) }
        return o
    }

    public func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity {
        guard let token = credentials["accessToken"]?.stringValue, !token.isEmpty else { throw AuthError(.missingRequiredFields) }
        let auth = [("authorization", "Bearer " + token), ("x-github-api-version", "2022-11-28")]
        if let app {
            let basic = "Basic " + Base64.encode(Array((app.clientID + ":" + app.clientSecret).utf8))
            let check = try await http.post(
                "\(apiURL)/applications/\(ProviderHTTP.escape(app.clientID))/token", contentType: "application/json",
                body: JSONValue.object(["access_token": .string(token)]).jsonText, headers: [("authorization", basic)])
            guard check.status == 200 else { throw refused("token not issued to this app (\(check.status))") }
        }
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
