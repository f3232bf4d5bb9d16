import Crypto

/// Facebook (nest-auth's `facebook`): the caller brings a user access token (`{accessToken}`).
/// authd checks with the app's credentials that the token is valid and was issued to this app
/// (`/debug_token`), then reads `/me` with an `appsecret_proof`. Facebook returns an `email` only
/// once its owner confirmed it, so a returned address counts as verified (as Supabase treats it).
public struct FacebookProvider: AuthProvider {
    public let name: String
    public let skipMFA: Bool
    let graphURL: String
    let appID: String
    let appSecret: String
    let http: ProviderHTTP

    public init(name: String = "facebook", graphURL: String = "https://graph.facebook.com/v19.0", appID: String, appSecret: String,
                skipMFA: Bool = true, http: ProviderHTTP = ProviderHTTP()) {
        self.name = name
        self.graphURL = graphURL.hasSuffix("/") ? String(graphURL.dropLast()) : graphURL
        self.appID = appID
        self.appSecret = appSecret
        self.skipMFA = skipMFA
        self.http = http
    }

    public var requiredFields: [String] { ["accessToken"] }
    public var clientConfig: JSONObject { ["kind": .string("facebook"), "clientId": .string(appID), "credentials": .array([.string("accessToken")])] }

    public func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity {
        guard let token = credentials["accessToken"]?.stringValue, !token.isEmpty else { throw AuthError(.missingRequiredFields) }
        let escaped = ProviderHTTP.escape(token)
        let debug = try await http.get(
            "\(graphURL)/debug_token?input_token=\(escaped)&access_token=\(ProviderHTTP.escape(appID + "|" + appSecret))")
        let data = debug.body.objectValue["data"]?.objectValue ?? [:]
        guard debug.status == 200, data["is_valid"]?.boolValue == true, data["app_id"]?.stringValue == appID else {
            throw refused("token not valid for this app")
        }
        let proof = Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: SymmetricKey(data: Array(appSecret.utf8)))))
        let me = try await http.get("\(graphURL)/me?fields=id,name,email&access_token=\(escaped)&appsecret_proof=\(proof)")
        let o = me.body.objectValue
        guard me.status == 200, let id = o["id"]?.stringValue, !id.isEmpty else { throw refused("/me answered \(me.status)") }
        var profile: JSONObject = [:]
        if let name = o["name"]?.stringValue { profile["name"] = .string(name) }
        let email = o["email"]?.stringValue
        return ExternalIdentity(subject: id, email: email, emailVerified: email != nil, profile: profile)
    }

    private func refused(_ reason: String) -> AuthError {
        AuthError(.invalidCredentials, cause: ProviderRefusal(provider: name, reason: reason))
    }
}
