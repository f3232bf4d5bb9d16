#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `POST /auth/change-password` (reference §6.8, behaviours 34–35; requirements 3, 15, 22): the
/// current password proves the caller (its checks count against the account's password-check
/// cap, like logins); the new one passes the policy; then, in one transaction: the hash is
/// swapped only if it is still the one verified, every session of the user ends (this one
/// too: ASVS 7.2.4, a new session for new credentials), reset tokens are void, a new session
/// is opened, and `auth.password_changed` is recorded.
public struct ChangePasswordFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func run(current: String, new: String, principal: Principal, request: AuthRequest) async throws -> AuthResponse {
        do {
            return try await change(current: current, new: new, principal: principal, request: request)
        } catch {
            throw env.mapError(error, context: "change-password")
        }
    }

    private func change(current: String, new: String, principal: Principal, request: AuthRequest) async throws -> AuthResponse {
        let (tenant, user) = (principal.tenant, principal.user)
        // An API key stands for no session: it must not mint one (nor pass MFA by doing so).
        guard principal.apiKeyID == nil else { throw AuthError.accessDenied("An API key cannot change the password", afterAuth: true) }
        guard !current.isEmpty, !new.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "currentPassword and newPassword are required")
        }
        let stored = try await OwnPasswordCheck(env: env).verify(
            current, principal: principal, request: request, wrong: AuthError(.currentPasswordIncorrect))
        guard new != current else { throw AuthError(.newPasswordSameAsCurrent) }
        try env.settings(for: tenant).passwordPolicy.check(new, context: PasswordPolicy.contextWords(user: user, tenant: tenant))
        let hash = try await env.hashPassword(new)
        let shaping = SessionShaping(env: env)

        let (opened, shape) = try await env.db.inTenant(tenant) { tx in
            guard try await env.credentials.setPassword(userID: user.id, hash: hash, expected: stored, on: tx) else {
                // Another change won the race: the password verified above is no longer current.
                throw AuthError(.currentPasswordIncorrect)
            }
            try await env.codes.deleteResetTokens(userID: user.id, on: tx)
            // A device trusted under the old password is trusted no more.
            try await MFAStore().deleteTrustedDevices(userID: user.id, on: tx)
            let ended = try await SessionOpener(env: env).revokeAll(userID: user.id, reason: "password_changed", tenant: tenant, tx: tx)
            guard let fresh = try await env.users.find(id: user.id, on: tx) else { throw AuthError.userNotFound }
            let shape = try await shaping.shape(user: fresh, tenant: tenant, tx: tx)
            // The caller passed every factor the guard asks for: the new session keeps that standing.
            let opened = try await SessionOpener(env: env).open(
                user: fresh, tenant: tenant, request: request, shape: shape, tx: tx, mfaVerified: principal.session.mfaVerified)
            try await env.outbox.append(
                AuthEvent(
                    .passwordChanged, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: [
                        "initiatedBy": .string("user"), "revokedSessions": .int(ended.count),
                        "sessionId": .string(opened.session.id.uuidString.lowercased()),
                        "ip": request.ipAddress.map(JSONValue.string) ?? .null,
                    ]),
                in: tx)
            return (opened, shape)
        }
        return try await shaping.response(
            access: opened.accessToken, refresh: opened.refreshToken.value, shape: shape, message: "Password changed successfully",
            context: "change-password")
    }
}
