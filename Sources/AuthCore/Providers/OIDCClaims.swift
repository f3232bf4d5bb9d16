import JWTKit

/// The claims of an OpenID Connect id token that authd reads. The standard checks (`iss`,
/// `aud`, `exp`, `nonce`) are made by `OIDCProvider` with its own settings and clock, so
/// `verify(using:)` — run by jwt-kit after the signature — checks nothing more.
struct OIDCClaims: JWTPayload {
    var iss: String
    var sub: String
    var aud: AudienceClaim
    var exp: Double
    var iat: Double?
    var nbf: Double?
    /// The authorized party: the client the token was issued to when `aud` names several.
    var azp: String?
    var nonce: String?
    var email: String?
    /// Apple sends `"true"`/`"false"` strings, others booleans.
    var emailVerified: LenientBool?
    var name: String?
    var picture: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nbf, azp, nonce, email, name, picture
        case emailVerified = "email_verified"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A boolean claim some providers send as a string.
struct LenientBool: Codable, Sendable, Equatable {
    var value: Bool

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let b = try? container.decode(Bool.self) {
            value = b
        } else {
            value = (try container.decode(String.self)).lowercased() == "true"
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
