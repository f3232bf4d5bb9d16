#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Setting MFA up (reference §6.7, behaviours 22, 27–30; requirements 15, 19, 20, 22): status,
/// TOTP enrolment, devices, turning MFA on and off, recovery codes. Every change here needs a
/// session that is not waiting for a second factor (the guard says `MFA_REQUIRED` otherwise);
/// adding or removing a factor and turning MFA on or off end every other session of the user.
public struct MFAEnrollmentFlow: Sendable {
    let env: AuthEnvironment
    var factors: MFAFactors { MFAFactors(env: env) }

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `GET /auth/mfa/status` (a challenge-stage token may ask).
    public func status(_ principal: Principal) async throws -> JSONObject {
        let (user, devices, left) = try await env.db.tenantStatements(principal.tenant) { db in
            (
                try await env.users.find(id: principal.user.id, on: db) ?? principal.user,
                try await factors.store.devices(userID: principal.user.id, on: db),
                try await factors.store.recoveryCodesLeft(userID: principal.user.id, on: db)
            )
        }
        let verified = factors.methods(of: user, devices: devices)
        return [
            "isEnabled": .bool(user.isMfaEnabled && env.settings.mfa.enabled), "verifiedMethods": .array(verified.map { .string($0.rawValue) }),
            "configuredMethods": .array(env.settings.mfa.methods.sorted().map { .string($0.rawValue) }),
            "allowUserToggle": .bool(env.settings.mfa.allowUserToggle), "totpDevices": .array(devices.map { .object($0.json) }),
            "hasRecoveryCodes": .bool(left > 0), "recoveryCodesRemaining": .int(left),
        ]
    }

    /// `POST /auth/mfa/setup-totp`: a new, unverified authenticator and its secret (shown here
    /// once, stored sealed); `verify-totp-setup` proves the app holds it.
    public func setupTOTP(_ principal: Principal, name: String?) async throws -> JSONObject {
        try requireEnabled(.totp)
        let secret = try TOTP.newSecret()
        let id = UUID()
        let account = principal.user.email ?? principal.user.phone ?? principal.user.id.uuidString.lowercased()
        let sealed = try factors.seal(secret, deviceID: id)
        try await env.db.inTenant(principal.tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            try await factors.store.insertDevice(id: id, userID: principal.user.id, name: name ?? "Authenticator", sealedSecret: sealed, on: tx)
        }
        let issuer = env.settings.mfa.issuer
        return [
            "deviceId": .string(id.uuidString.lowercased()), "secret": .string(Base32.encode(secret)),
            "otpAuthUrl": .string(TOTP.provisioningURL(secret: secret, issuer: issuer, account: account)),
            "issuer": .string(issuer), "account": .string(account),
        ]
    }

    /// `POST /auth/mfa/verify-totp-setup {code}`: the first code of a pending authenticator
    /// verifies it (401 `MFA_CODE_INVALID` otherwise); the other sessions end.
    public func verifyTOTPSetup(_ principal: Principal, code: String, request: AuthRequest) async throws {
        try requireEnabled(.totp)
        try await limitGuesses(principal, request)
        let (tenant, user) = (principal.tenant, principal.user)
        let device = try await env.db.inTenant(tenant) { tx -> MFAStore.Device? in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            let devices = try await factors.store.devices(userID: user.id, forUpdate: true, on: tx)
            guard let device = try await factors.checkTOTP(code, devices: devices, verifying: true, tx: tx) else { return nil }
            try await factorsChanged(principal, reason: "mfa_device_added", tx: tx)
            try await env.outbox.append(
                AuthEvent(
                    .mfaDeviceAdded, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: ["deviceId": .string(device.id.uuidString.lowercased()), "method": .string("totp")]),
                in: tx)
            return device
        }
        guard device != nil else { throw AuthError(.mfaCodeInvalid) }
    }

    /// `GET /auth/mfa/devices`.
    public func devices(_ principal: Principal) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await factors.store.devices(userID: principal.user.id, on: $0) }.map(\.json)
    }

    /// `DELETE /auth/mfa/devices/:id`: only the caller's own (another's id is 404 and untouched);
    /// MFA turns off when no verified method remains; the other sessions end.
    public func deleteDevice(_ principal: Principal, id: UUID, request: AuthRequest) async throws {
        let (tenant, user) = (principal.tenant, principal.user)
        try await env.db.inTenant(tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            guard try await factors.store.deleteDevice(id: id, userID: user.id, on: tx) else {
                throw AuthError(.notFound, message: "MFA device not found")
            }
            try await turnOffIfNoMethodLeft(principal, tx: tx, request: request)
            try await factorsChanged(principal, reason: "mfa_device_removed", tx: tx)
            try await env.outbox.append(
                AuthEvent(
                    .mfaDeviceRemoved, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: ["deviceId": .string(id.uuidString.lowercased())]),
                in: tx)
        }
    }

    /// `POST /auth/mfa/toggle {enabled}`.
    public func toggle(_ principal: Principal, enabled: Bool, request: AuthRequest) async throws {
        guard env.settings.mfa.enabled else { throw AuthError(.mfaNotEnabled) }
        guard env.settings.mfa.allowUserToggle else { throw AuthError(.mfaTogglingNotAllowed) }
        // A tenant that requires MFA does not let its users turn it off.
        if !enabled, env.settings(for: principal.tenant).mfaRequired {
            throw AuthError(.mfaTogglingNotAllowed, message: "This tenant requires MFA")
        }
        let (tenant, userID) = (principal.tenant, principal.user.id)
        try await env.db.inTenant(tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            guard let user = try await env.users.find(id: userID, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
            if enabled {
                let devices = try await factors.store.devices(userID: userID, on: tx)
                guard !factors.methods(of: user, devices: devices).isEmpty else { throw AuthError(.mfaCannotEnableWithoutMethod) }
            }
            guard user.isMfaEnabled != enabled else { return }
            _ = try await UserLifecycle(env: env).update(userID: userID, UserChanges(isMfaEnabled: enabled), tenant: tenant, tx: tx, logger: request.logger)
            // This session passed every factor the user has (it could change them): it stays.
            try await env.sessions.markMfaVerified(sessionID: principal.session.id, on: tx)
            if !enabled { try await factors.store.deleteTrustedDevices(userID: userID, on: tx) }
            try await factorsChanged(principal, reason: enabled ? "mfa_enabled" : "mfa_disabled", tx: tx)
            try await env.outbox.append(
                AuthEvent(
                    enabled ? .twoFactorEnabled : .twoFactorDisabled, tenantID: tenant.id, actor: AuthEvent.user(userID),
                    subject: AuthEvent.user(userID)),
                in: tx)
        }
    }

    /// `POST /auth/mfa/generate-recovery-codes`: a new set, shown once; the old set is void.
    public func generateRecoveryCodes(_ principal: Principal) async throws -> [String] {
        guard env.settings.mfa.enabled else { throw AuthError(.mfaNotEnabled) }
        let codes = try factors.newRecoveryCodes()
        let (tenant, user) = (principal.tenant, principal.user.id)
        try await env.db.inTenant(tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            try await factors.store.replaceRecoveryCodes(
                userID: user, hmacs: codes.map { factors.recoveryHMAC($0, user: user, tenant: tenant) }, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .recoveryCodesGenerated, tenantID: tenant.id, actor: AuthEvent.user(user), subject: AuthEvent.user(user),
                    data: ["count": .int(codes.count)]),
                in: tx)
        }
        return codes
    }

    /// `GET /auth/mfa/trusted-devices`.
    public func trustedDevices(_ principal: Principal) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await factors.store.trustedDevices(userID: principal.user.id, on: $0) }
    }

    /// `DELETE /auth/mfa/trusted-devices/:id`: the next login from it asks for a second factor again.
    public func revokeTrustedDevice(_ principal: Principal, id: UUID) async throws {
        let gone = try await env.db.tenantStatements(principal.tenant) {
            try await factors.store.deleteTrustedDevice(id: id, userID: principal.user.id, on: $0)
        }
        guard gone else { throw AuthError(.notFound, message: "Trusted device not found") }
    }

    // MARK: shared

    func requireEnabled(_ method: MFAMethod) throws {
        guard env.settings.mfa.enabled else { throw AuthError(.mfaNotEnabled) }
        guard env.settings.mfa.methods.contains(method) else { throw AuthError(.mfaMethodNotAvailable) }
    }

    /// Code guesses of an account are limited like any code's.
    func limitGuesses(_ principal: Principal, _ request: AuthRequest) async throws {
        try await env.rateLimiter.check(
            .verifyCode, ip: request.ipAddress, identifier: "mfa:" + principal.user.id.uuidString, scope: principal.tenant.id.uuidString)
    }

    /// A factor was added or removed, or MFA turned on or off: every other session ends
    /// (requirement 15); this one — which just proved itself — is kept.
    func factorsChanged(_ principal: Principal, reason: String, tx: PGTransaction) async throws {
        try await SessionOpener(env: env).revokeAll(
            userID: principal.user.id, reason: reason, except: principal.session.id, tenant: principal.tenant, tx: tx)
    }

    /// MFA goes off (with `auth.two_factor_disabled`) when the user has no method left to pass.
    func turnOffIfNoMethodLeft(_ principal: Principal, tx: PGTransaction, request: AuthRequest) async throws {
        guard let user = try await env.users.find(id: principal.user.id, forUpdate: true, on: tx), user.isMfaEnabled else { return }
        let devices = try await factors.store.devices(userID: user.id, on: tx)
        guard factors.methods(of: user, devices: devices).isEmpty else { return }
        _ = try await UserLifecycle(env: env).update(userID: user.id, UserChanges(isMfaEnabled: false), tenant: principal.tenant, tx: tx, logger: request.logger)
        try await factors.store.deleteTrustedDevices(userID: user.id, on: tx)
        try await env.outbox.append(
            AuthEvent(
                .twoFactorDisabled, tenantID: principal.tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                data: ["reason": .string("no_method_left")]),
            in: tx)
    }
}
