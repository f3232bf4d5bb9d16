#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Passing the second factor (reference §6.7, behaviours 21, 23–26, 30; requirements 19–21):
/// a challenge-stage token may ask for an e-mail or SMS code, verify a code (TOTP ±1 step, no
/// replay; or the challenge code, single use, attempts capped) or a recovery code (single use).
/// Success re-issues the tokens of the same session, now MFA-verified (the challenge stage's
/// refresh token is spent), optionally with a trusted-device token.
public struct MFAVerificationFlow: Sendable {
    let env: AuthEnvironment
    var factors: MFAFactors { MFAFactors(env: env) }
    var enrollment: MFAEnrollmentFlow { MFAEnrollmentFlow(env: env) }

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `POST /auth/mfa/challenge {method}`: e-mail and SMS get a code in
    /// `auth.two_factor_code_sent` (a new one voids the old); TOTP needs nothing sent.
    public func challenge(_ principal: Principal, method: MFAMethod, request: AuthRequest) async throws {
        try enrollment.requireEnabled(method)
        guard principal.session.firstFactor != method.rawValue else { throw AuthError(.mfaMethodNotAvailable) }
        guard method != .totp else { return }
        try await env.rateLimiter.check(
            .sendCode, ip: request.ipAddress, identifier: "mfa:" + principal.user.id.uuidString, scope: principal.tenant.id.uuidString)
        let tenant = principal.tenant
        try await env.db.inTenant(tenant) { tx in
            guard let user = try await env.users.find(id: principal.user.id, on: tx) else { throw AuthError.userNotFound }
            guard factors.methods(of: user, devices: []).contains(method),
                  let address = method == .email ? user.email : user.phone
            else { throw AuthError(.mfaMethodNotAvailable) }
            let channel: OneTimeCodeChannel = method == .email ? .email : .sms
            try await OneTimeCodes(env: env).issue(user: user.id, tenant: tenant, purpose: .mfa, channel: channel, recipient: address, tx: tx) { expiresAt in
                AuthEvent(
                    .twoFactorCodeSent, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: VerificationFlow.delivery(.mfa, channel, to: address, expiresAt: expiresAt).merging(["method": .string(method.rawValue)]) { a, _ in a })
            }
        }
    }

    /// `POST /auth/mfa/verify {method, code, trustDevice?}` → AuthResponse for the same session.
    public func verify(_ principal: Principal, method: MFAMethod, code: String, trustDevice: Bool, request: AuthRequest) async throws
        -> AuthResponse
    {
        try enrollment.requireEnabled(method)
        // The inbox (or phone) that was the login cannot be the second factor as well.
        guard principal.session.firstFactor != method.rawValue else { throw AuthError(.mfaMethodNotAvailable) }
        try await enrollment.limitGuesses(principal, request)
        let response = try await env.db.inTenant(principal.tenant) { tx -> AuthResponse? in
            let passed: Bool
            switch method {
            case .totp:
                let devices = try await factors.store.devices(userID: principal.user.id, forUpdate: true, on: tx)
                passed = try await factors.checkTOTP(code, devices: devices, verifying: false, tx: tx) != nil
            case .email, .sms:
                passed = try await OneTimeCodes(env: env).verify(
                    code, user: principal.user.id, tenant: principal.tenant, purpose: .mfa, channel: method == .email ? .email : .sms, tx: tx)
                    == .valid
            }
            guard passed else { return nil }
            return try await complete(principal, method: method.rawValue, trustDevice: trustDevice, request: request, tx: tx)
        }
        guard let response else { throw AuthError(.mfaCodeInvalid) }
        return response
    }

    /// `POST /auth/mfa/verify-recovery-code {code, trustDevice?}`: a recovery code completes the
    /// login once (401 `MFA_RECOVERY_CODE_INVALID` otherwise).
    public func verifyRecoveryCode(_ principal: Principal, code: String, trustDevice: Bool, request: AuthRequest) async throws -> AuthResponse {
        guard env.settings.mfa.enabled else { throw AuthError(.mfaNotEnabled) }
        try await enrollment.limitGuesses(principal, request)
        let response = try await env.db.inTenant(principal.tenant) { tx -> AuthResponse? in
            guard try await consumeRecoveryCode(principal, code, tx: tx) else { return nil }
            return try await complete(principal, method: "recovery_code", trustDevice: trustDevice, request: request, tx: tx)
        }
        guard let response else { throw AuthError(.mfaRecoveryCodeInvalid) }
        return response
    }

    /// `POST /auth/mfa/reset-totp {code}`: a recovery code removes every authenticator (lost
    /// phone); MFA turns off when no verified method remains; this session counts as verified,
    /// the others end.
    public func resetTOTP(_ principal: Principal, code: String, request: AuthRequest) async throws {
        guard env.settings.mfa.enabled else { throw AuthError(.mfaNotEnabled) }
        try await enrollment.limitGuesses(principal, request)
        let done = try await env.db.inTenant(principal.tenant) { tx -> Bool in
            guard try await consumeRecoveryCode(principal, code, tx: tx) else { return false }
            try await factors.store.deleteDevices(userID: principal.user.id, on: tx)
            try await env.sessions.markMfaVerified(sessionID: principal.session.id, on: tx)
            try await enrollment.turnOffIfNoMethodLeft(principal, tx: tx, request: request)
            try await enrollment.factorsChanged(principal, reason: "mfa_reset", tx: tx)
            try await env.outbox.append(
                AuthEvent(
                    .mfaDeviceRemoved, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id),
                    subject: AuthEvent.user(principal.user.id), data: ["reason": .string("reset_totp")]),
                in: tx)
            return true
        }
        guard done else { throw AuthError(.mfaRecoveryCodeInvalid) }
    }

    private func consumeRecoveryCode(_ principal: Principal, _ code: String, tx: PGTransaction) async throws -> Bool {
        guard !code.isEmpty, code.count <= 64 else { return false }
        let used = try await factors.store.consumeRecoveryCode(
            userID: principal.user.id, candidates: factors.recoveryCandidates(code, user: principal.user.id, tenant: principal.tenant), on: tx)
        if used {
            try await env.outbox.append(
                AuthEvent(
                    .recoveryCodeUsed, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id),
                    subject: AuthEvent.user(principal.user.id),
                    data: ["remaining": .int(try await factors.store.recoveryCodesLeft(userID: principal.user.id, on: tx))]),
                in: tx)
        }
        return used
    }

    /// The session passed: marked verified with a fresh refresh token (the challenge stage's is
    /// spent), new access token, `auth.two_factor_verified`, and a trusted-device token if asked.
    private func complete(_ principal: Principal, method: String, trustDevice: Bool, request: AuthRequest, tx: PGTransaction) async throws
        -> AuthResponse
    {
        let (tenant, sessionID) = (principal.tenant, principal.session.id)
        guard let (state, user, roles, permissions) = try await env.sessions.lockForRefresh(sessionID: sessionID, on: tx), state.isLive,
              user.isActive
        else { throw AuthError.sessionNotFound }
        let shaping = SessionShaping(env: env)
        let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: (roles, permissions))
        let next = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: sessionID, generation: state.session.generation + 1)
        guard let session = try await env.sessions.reissueVerified(sessionID: sessionID, next: next, data: shape.sessionData, on: tx) else {
            throw AuthError.sessionNotFound
        }
        var trustToken: String?
        if trustDevice, env.settings.mfa.trustedDeviceTTL > .zero {
            let made = try MFAFactors.newTrustToken()
            try await factors.store.insertTrustedDevice(
                digest: made.digest, userID: user.id, request: request, ttl: env.settings.mfa.trustedDeviceTTL, on: tx)
            trustToken = made.token
        }
        try await env.outbox.append(
            AuthEvent(
                .twoFactorVerified, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.session(sessionID, user: user.id),
                data: ["method": .string(method), "trustedDevice": .bool(trustToken != nil), "ip": request.ipAddress.map(JSONValue.string) ?? .null]),
            in: tx)
        let access = try await shaping.accessToken(session: session, user: user, tenant: tenant, shape: shape)
        var response = try await shaping.response(
            access: access, refresh: next.value, shape: shape, message: "2FA verification successful", context: "mfa-verify")
        response.trustToken = trustToken
        return response
    }
}
