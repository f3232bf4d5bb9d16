#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// The claims of an authd access token (DESIGN.md §6) that a backend needs. Decoded only after
/// jwt-kit checked the signature; the time, issuer, audience and type checks are the
/// verifier's, so each refusal has its own code.
struct AuthClaims: JWTPayload {
    var issuer: String
    var audiences: [String]
    var subject: String
    var issuedAt: Date?
    var expiresAt: Date
    var notBefore: Date?
    var sessionID: String
    var tenantID: String
    var roles: [String]
    var permissions: [String]?
    var isMfaEnabled: Bool
    var isMfaVerified: Bool
    var type: String

    enum CodingKeys: String, CodingKey {
        case issuer = "iss", audience = "aud", subject = "sub", issuedAt = "iat", expiresAt = "exp", notBefore = "nbf"
        case sessionID = "sessionId", tenantID = "tenantId", roles, permissions, isMfaEnabled, isMfaVerified, type
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try c.decode(String.self, forKey: .issuer)
        if let single = try? c.decode(String.self, forKey: .audience) {
            audiences = [single]
        } else {
            audiences = try c.decode([String].self, forKey: .audience)
        }
        subject = try c.decode(String.self, forKey: .subject)
        issuedAt = try c.decodeIfPresent(Double.self, forKey: .issuedAt).map { Date(timeIntervalSince1970: $0) }
        expiresAt = Date(timeIntervalSince1970: try c.decode(Double.self, forKey: .expiresAt))
        notBefore = try c.decodeIfPresent(Double.self, forKey: .notBefore).map { Date(timeIntervalSince1970: $0) }
        sessionID = try c.decode(String.self, forKey: .sessionID)
        tenantID = try c.decode(String.self, forKey: .tenantID)
        roles = try c.decodeIfPresent([String].self, forKey: .roles) ?? []
        permissions = try c.decodeIfPresent([String].self, forKey: .permissions)
        isMfaEnabled = try c.decodeIfPresent(Bool.self, forKey: .isMfaEnabled) ?? false
        isMfaVerified = try c.decodeIfPresent(Bool.self, forKey: .isMfaVerified) ?? false
        type = try c.decode(String.self, forKey: .type)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(issuer, forKey: .issuer)
        try c.encode(audiences, forKey: .audience)
        try c.encode(subject, forKey: .subject)
        try c.encodeIfPresent(issuedAt?.timeIntervalSince1970, forKey: .issuedAt)
        try c.encode(expiresAt.timeIntervalSince1970, forKey: .expiresAt)
        try c.encodeIfPresent(notBefore?.timeIntervalSince1970, forKey: .notBefore)
        try c.encode(sessionID, forKey: .sessionID)
        try c.encode(tenantID, forKey: .tenantID)
        try c.encode(roles, forKey: .roles)
        try c.encodeIfPresent(permissions, forKey: .permissions)
        try c.encode(isMfaEnabled, forKey: .isMfaEnabled)
        try c.encode(isMfaVerified, forKey: .isMfaVerified)
        try c.encode(type, forKey: .type)
    }

    /// Checked by the verifier instead, after the signature.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
