/// The body of signup, login and refresh answers (API.md "AuthResponse").
public struct AuthResponse: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    public var isRequiresMfa: Bool
    /// The session user (`getSessionUserData`), sensitive fields removed.
    public var user: JSONObject
    public var message: String
    /// Access-token expiry (for cookie Max-Age and clients).
    public var accessTokenExpiresIn: Int
    /// Refresh/session lifetime in seconds (for the refresh cookie's Max-Age).
    public var refreshTokenExpiresIn: Int
    /// With `isRequiresMfa`: the methods the user can pass, and the one to offer first.
    public var mfaMethods: [String]?
    public var defaultMfaMethod: String?
    /// A trusted-device token (MFA verify with `trustDevice`), shown once.
    public var trustToken: String?

    public init(
        accessToken: String, refreshToken: String, isRequiresMfa: Bool = false, user: JSONObject, message: String,
        accessTokenExpiresIn: Int, refreshTokenExpiresIn: Int
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.isRequiresMfa = isRequiresMfa
        self.user = user
        self.message = message
        self.accessTokenExpiresIn = accessTokenExpiresIn
        self.refreshTokenExpiresIn = refreshTokenExpiresIn
    }

    /// The JSON body (tokens included; cookie mode removes them in the HTTP layer).
    public var json: JSONObject {
        var out: JSONObject = [
            "accessToken": .string(accessToken), "refreshToken": .string(refreshToken),
            "isRequiresMfa": .bool(isRequiresMfa), "user": .object(user), "message": .string(message),
        ]
        if let mfaMethods { out["mfaMethods"] = .array(mfaMethods.map(JSONValue.string)) }
        if let defaultMfaMethod { out["defaultMfaMethod"] = .string(defaultMfaMethod) }
        if let trustToken { out["trustToken"] = .string(trustToken) }
        return out
    }
}
