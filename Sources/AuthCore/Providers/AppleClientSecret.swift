#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// Apple's "client secret": an ES256 JWT (iss = team id, sub = client id, aud = Apple) signed with
/// the key made in the developer account, valid for a few minutes here (Apple allows six months;
/// a short one is worthless if it leaks from a log).
enum AppleClientSecret {
    struct Claims: JWTPayload {
        var iss: String
        var sub: String
        var aud: String
        var iat: Int
        var exp: Int
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func make(teamID: String, keyID: String, clientID: String, key: ES256PrivateKey, now: Date) async throws -> String {
        let iat = Int(now.timeIntervalSince1970)
        let keys = await JWTKeyCollection().add(ecdsa: key, kid: JWKIdentifier(string: keyID))
        return try await keys.sign(
            Claims(iss: teamID, sub: clientID, aud: "https://appleid.apple.com", iat: iat, exp: iat + 300), kid: JWKIdentifier(string: keyID))
    }
}
