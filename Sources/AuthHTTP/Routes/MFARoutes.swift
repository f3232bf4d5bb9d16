import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird

/// `/auth/mfa/*` (API.md). Two groups: what a login's challenge-stage token may call (status,
/// device list, challenge, verify, recovery), and what needs a session that passed every factor
/// (set-up, toggle, device removal, new recovery codes).
struct MFARoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    /// `pending`: the group whose guard lets a challenge-stage token through; `verified`: the
    /// ordinary guarded `/auth` group.
    func register(pending: RouterGroup<AuthenticatedContext>, verified: RouterGroup<AuthenticatedContext>) {
        pending.get("status") { _, context in JSONResponse.make(.object(try await enrollment.status(context.principal))) }
        pending.get("devices") { _, context in JSONResponse.make(.array(try await enrollment.devices(context.principal).map(JSONValue.object))) }
        pending.post("challenge", use: challenge)
        pending.post("verify", use: verify)
        pending.post("verify-recovery-code", use: verifyRecoveryCode)
        pending.post("reset-totp", use: resetTOTP)

        verified.post("mfa/setup-totp", use: setupTOTP)
        verified.post("mfa/verify-totp-setup", use: verifyTOTPSetup)
        verified.post("mfa/toggle", use: toggle)
        verified.delete("mfa/devices/:id", use: deleteDevice)
        verified.get("mfa/trusted-devices") { _, context in
            JSONResponse.make(.array(try await enrollment.trustedDevices(context.principal).map(JSONValue.object)))
        }
        verified.delete("mfa/trusted-devices/:id") { _, context in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a device id") }
            try await enrollment.revokeTrustedDevice(context.principal, id: id)
            return JSONResponse.message("Trusted device revoked")
        }
        verified.post("mfa/generate-recovery-codes", use: generateRecoveryCodes)
        // nest-auth's name for the same route.
        verified.post("mfa/generate-recovery-code", use: generateRecoveryCodes)
    }

    var enrollment: MFAEnrollmentFlow { MFAEnrollmentFlow(env: env) }
    var verification: MFAVerificationFlow { MFAVerificationFlow(env: env) }

    func auth(_ request: Request, _ context: AuthenticatedContext) -> AuthRequest {
        context.authRequest(request, proxies: env.settings.trustedProxies)
    }

    static func method(_ body: JSONFields) throws -> MFAMethod {
        let text = try body.string("method", maxLength: 16) ?? ""
        guard let method = MFAMethod(rawValue: text) else { throw AuthError.invalidInput("method", "must be totp, email or sms") }
        return method
    }

    static func code(_ body: JSONFields) throws -> String {
        // nest-auth v1 named it `otp`.
        guard let code = try body.string("code", maxLength: 64) ?? body.string("otp", maxLength: 64), !code.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "code is required")
        }
        return code
    }

    @Sendable func challenge(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let method = try Self.method(JSONFields(context.body))
        try await verification.challenge(context.principal, method: method, request: auth(request, context))
        return JSONResponse.message(method == .totp ? "Enter the code from your authenticator app" : "MFA code sent successfully")
    }

    @Sendable func verify(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = JSONFields(context.body)
        let trust = try body.bool("trustDevice") ?? body.bool("rememberDevice") ?? false
        let response = try await verification.verify(
            context.principal, method: try Self.method(body), code: try Self.code(body), trustDevice: trust, request: auth(request, context))
        return try await respond(response, request, context)
    }

    @Sendable func verifyRecoveryCode(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = JSONFields(context.body)
        let response = try await verification.verifyRecoveryCode(
            context.principal, code: try Self.code(body), trustDevice: try body.bool("trustDevice") ?? false, request: auth(request, context))
        return try await respond(response, request, context)
    }

    @Sendable func resetTOTP(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await verification.resetTOTP(context.principal, code: try Self.code(JSONFields(context.body)), request: auth(request, context))
        return JSONResponse.message("MFA reset successfully")
    }

    @Sendable func setupTOTP(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = JSONFields(context.body)
        let name = try body.string("deviceName", maxLength: 100) ?? body.string("label", maxLength: 100)
        return JSONResponse.make(.object(try await enrollment.setupTOTP(context.principal, name: name)))
    }

    @Sendable func verifyTOTPSetup(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        try await enrollment.verifyTOTPSetup(context.principal, code: try Self.code(JSONFields(context.body)), request: auth(request, context))
        return JSONResponse.message("Device setup successfully")
    }

    @Sendable func toggle(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard let enabled = try JSONFields(context.body).bool("enabled") else { throw AuthError(.missingRequiredFields, message: "enabled is required") }
        try await enrollment.toggle(context.principal, enabled: enabled, request: auth(request, context))
        return JSONResponse.message(enabled ? "MFA enabled successfully" : "MFA disabled successfully")
    }

    @Sendable func deleteDevice(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a device id") }
        try await enrollment.deleteDevice(context.principal, id: id, request: auth(request, context))
        return JSONResponse.message("MFA device removed successfully")
    }

    @Sendable func generateRecoveryCodes(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let codes = try await enrollment.generateRecoveryCodes(context.principal)
        return JSONResponse.make(.object([
            "codes": .array(codes.map(JSONValue.string)),
            "message": .string("Store these codes somewhere safe: each works once, and they are not shown again"),
        ]))
    }

    /// Tokens as the request's mode wants them, plus the trusted-device cookie in cookie mode.
    func respond(_ response: AuthResponse, _ request: Request, _ context: AuthenticatedContext) async throws -> Response {
        let mode = try await transport.mode(for: request, auth: auth(request, context))
        var answer = transport.respond(response, mode: mode, persistent: !transport.isSessionOnly(request))
        if mode == .cookie, let trust = response.trustToken {
            answer.headers.append(HTTPField(name: .setCookie, value: transport.trustCookie(trust, maxAge: env.settings.mfa.trustedDeviceTTL.wholeSeconds)))
        }
        return answer
    }
}
