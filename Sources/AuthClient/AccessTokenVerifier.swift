#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Verifies authd access tokens in the backend's process: the signature against authd's JWKS,
/// then `type`, `iss`, `aud`, `exp`/`nbf`, the MFA state, and the revocation list — no request
/// to authd per token.
public struct AccessTokenVerifier: Sendable {
    let configuration: AuthClientConfiguration
    let keyring: JWKSKeyring
    let revocations: RevocationFollower?
    let verified = VerifiedTokenCache()

    /// The identity `token` carries, or the refusal (`AuthClientError`) authd itself would give.
    public func verify(_ token: String) async throws -> AuthIdentity {
        guard !token.isEmpty, token.utf8.count <= 16 * 1024 else { throw AuthClientError.invalidToken }
        let claims: AuthClaims
        if let known = verified.claims(for: token, published: keyring.published.withLock { $0 }) {
            claims = known
        } else {
            claims = try await keyring.verify(token)
            if let kid = JWKSKeyring.kid(of: token) { verified.insert(claims, kid: kid, for: token) }
        }
        guard claims.type == "access", claims.issuer == configuration.issuer, claims.audiences.contains(configuration.audience),
              let userID = UUID(uuidString: claims.subject), let tenantID = UUID(uuidString: claims.tenantID),
              let sessionID = UUID(uuidString: claims.sessionID)
        else { throw AuthClientError.invalidToken }
        let now = Date()
        guard claims.expiresAt > now else { throw AuthClientError.tokenExpired }
        let leeway = configuration.leeway.seconds
        if let notBefore = claims.notBefore, notBefore > now.addingTimeInterval(leeway) { throw AuthClientError.invalidToken }
        // A token issued before the second factor was verified opens only authd's MFA routes
        // (when MFA is on in authd, as `mfaEnabled` says).
        if configuration.mfaEnabled, claims.isMfaEnabled, !claims.isMfaVerified { throw AuthClientError.mfaRequired }
        if let revocations {
            switch revocations.verdict(sessionID: sessionID, tenantID: tenantID, issuedAt: claims.issuedAt) {
            case .allowed: break
            case .revoked: throw AuthClientError.sessionNotFound
            case .outOfSync: if configuration.whenOutOfSync == .refuse { throw AuthClientError.unavailable }
            }
        }
        return AuthIdentity(
            userID: userID, tenantID: tenantID, sessionID: sessionID, roles: claims.roles, permissions: claims.permissions,
            expiresAt: claims.expiresAt)
    }

    /// How many JWKS documents were downloaded (a rotation announced ahead needs none).
    public var jwksFetches: Int {
        get async { await keyring.fetches }
    }
}
