import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// WebAuthn passkeys (API.md `/auth/passkeys/…`): registration by a signed-in user (after a
/// recent proof, like other factor changes), usernameless login (a discoverable credential
/// names its user), list, rename, delete. Challenges are 32 random bytes, stored as digests,
/// single use (taken in their own statement before anything is verified, so a failed attempt
/// burns its challenge) and live `PasskeySettings.challengeTTL`. A passkey login requires user
/// verification and so completes MFA.
public struct PasskeyFlow: Sendable {
    let env: AuthEnvironment
    let store = PasskeyStore()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    func relyingParty(_ tenant: Tenant) throws -> WebAuthnRelyingParty {
        guard let rp = env.settings(for: tenant).passkeys.relyingParty else { throw AuthError(.passkeysNotConfigured) }
        return rp
    }

    static func digest(_ challenge: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: challenge)) }

    static func userHandle(_ id: UUID) -> [UInt8] { withUnsafeBytes(of: id.uuid) { Array($0) } }

    // MARK: Registration

    /// `PublicKeyCredentialCreationOptionsJSON` for the caller.
    public func registrationOptions(_ principal: Principal) async throws -> JSONObject {
        let rp = try relyingParty(principal.tenant)
        let challenge = try SecureRandom.bytes(32)
        let ttl = env.settings(for: principal.tenant).passkeys.challengeTTL
        let existing = try await env.db.inTenant(principal.tenant) { tx in
            // Someone who signed up first with another's address must not plant a passkey that
            // outlives the owner's password reset: an account adds passkeys once it proved an
            // address (read now, not from the request's cached principal).
            guard let user = try await env.users.find(id: principal.user.id, on: tx),
                  user.emailVerifiedAt != nil || user.phoneVerifiedAt != nil
            else { throw AuthError(.passkeyNeedsVerifiedAddress) }
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            try await store.createChallenge(digest: Self.digest(challenge), purpose: "register", userID: principal.user.id, ttl: ttl, on: tx)
            return try await store.list(userID: principal.user.id, on: tx)
        }
        let name = principal.user.email ?? principal.user.phone ?? principal.user.id.uuidString.lowercased()
        return [
            "challenge": .string(WebAuthnBase64.encode(challenge)),
            "rp": .object(["id": .string(rp.id), "name": .string(rp.name)]),
            "user": .object(["id": .string(WebAuthnBase64.encode(Self.userHandle(principal.user.id))), "name": .string(name), "displayName": .string(name)]),
            "pubKeyCredParams": .array([COSEKey.algEdDSA, COSEKey.algES256, COSEKey.algEd25519].map { .object(["type": .string("public-key"), "alg": .int($0)]) }),
            "timeout": .int(ttl.wholeSeconds * 1000),
            "attestation": .string("none"),
            "authenticatorSelection": .object([
                "residentKey": .string("required"), "requireResidentKey": .bool(true), "userVerification": .string("required"),
            ]),
            "excludeCredentials": .array(existing.map {
                .object(["type": .string("public-key"), "id": .string(WebAuthnBase64.encode($0.credentialID)), "transports": .array($0.transports.map(JSONValue.string))])
            }),
        ]
    }

    /// Verifies `credential` (`PublicKeyCredential.toJSON()` of a registration) and stores it.
    public func register(_ principal: Principal, credential: JSONObject, name: String?) async throws -> JSONObject {
        let rp = try relyingParty(principal.tenant)
        let response = credential["response"]?.objectValue ?? [:]
        guard let clientDataJSON = response["clientDataJSON"]?.stringValue.flatMap(WebAuthnBase64.decode),
              let attestation = response["attestationObject"]?.stringValue.flatMap(WebAuthnBase64.decode),
              credential["type"]?.stringValue == "public-key"
        else { throw AuthError.invalidInput("credential", "must be a PublicKeyCredential in JSON form (response.clientDataJSON, response.attestationObject)") }
        let transports = (response["transports"]?.arrayValue ?? []).compactMap(\.stringValue).filter { $0.utf8.count <= 32 }.prefix(8)
        let label = (name ?? "").trimmingCharacters(in: .whitespaces)
        guard label.count <= 100 else { throw AuthError.invalidInput("name", "is longer than 100 characters") }
        let challenge = try Self.challenge(in: clientDataJSON, refusal: AuthError(.passkeyVerificationFailed))
        // Used up now, whatever happens next.
        let owner = try await env.db.tenantStatements(principal.tenant) {
            try await store.consumeChallenge(digest: Self.digest(challenge), purpose: "register", on: $0)
        }
        guard case .some(.some(let userID)) = owner, userID == principal.user.id else {
            throw AuthError(.passkeyVerificationFailed, message: "The challenge is unknown, used or expired; ask for new options")
        }
        let verified: VerifiedRegistration
        do {
            verified = try WebAuthnVerifier(rp).verifyRegistration(clientDataJSON: clientDataJSON, attestationObject: attestation, challenge: challenge)
        } catch {
            env.logger.debug("passkey registration refused", metadata: ["reason": "\(error)"])
            throw AuthError(.passkeyVerificationFailed, cause: error)
        }
        if let id = credential["rawId"]?.stringValue ?? credential["id"]?.stringValue, WebAuthnBase64.decode(id) != verified.credentialID {
            throw AuthError(.passkeyVerificationFailed, message: "The credential id does not match the authenticator data")
        }
        let passkey = try await env.db.inTenant(principal.tenant) { tx in
            let made = try await store.insert(
                userID: principal.user.id, verified, transports: Array(transports), name: label.isEmpty ? "Passkey" : label, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .passkeyAdded, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id), subject: AuthEvent.user(principal.user.id),
                    data: [
                        "passkeyId": .string(made.id.uuidString.lowercased()), "algorithm": .int(made.publicKey.algorithm),
                        "backupEligible": .bool(made.backupEligible), "attestationFormat": .string(verified.attestationFormat),
                    ]),
                in: tx)
            return made
        }
        return passkey.json
    }

    // MARK: Login

    /// `PublicKeyCredentialRequestOptionsJSON` for a usernameless login.
    public func loginOptions(tenantName: String?, request: AuthRequest) async throws -> JSONObject {
        let tenant = try await env.tenants.resolve(tenantName)
        let rp = try relyingParty(tenant)
        // Each answer writes a row: limited like login attempts.
        try await env.rateLimiter.check(.login, ip: request.ipAddress, identifier: nil, scope: RateLimiter.scope(tenant, named: tenantName))
        let challenge = try SecureRandom.bytes(32)
        let ttl = env.settings(for: tenant).passkeys.challengeTTL
        try await env.db.inTenant(tenant) { tx in
            try await store.createChallenge(digest: Self.digest(challenge), purpose: "login", userID: nil, ttl: ttl, on: tx)
        }
        return [
            "challenge": .string(WebAuthnBase64.encode(challenge)), "rpId": .string(rp.id), "timeout": .int(ttl.wholeSeconds * 1000),
            "userVerification": .string("required"), "allowCredentials": .array([]),
        ]
    }

    /// Verifies an assertion (`PublicKeyCredential.toJSON()` of a login) and opens a session.
    /// Every refusal is 401 `INVALID_CREDENTIALS` with an `auth.login_failed` event.
    public func login(credential: JSONObject, tenantName: String?, request: AuthRequest) async throws -> AuthResponse {
        do {
            return try await AuthMetrics.count(AuthMetrics.loginsSucceeded, AuthMetrics.loginsFailed) {
                try await authenticate(credential, tenantName: tenantName, request: request)
            }
        } catch {
            throw env.mapError(error, context: "passkey login")
        }
    }

    private func authenticate(_ credential: JSONObject, tenantName: String?, request: AuthRequest) async throws -> AuthResponse {
        guard let tenant = try await LoginFlow.unlessUnknown({ try await env.tenants.resolve(tenantName) }) else { throw AuthError.invalidCredentials }
        let rp = try relyingParty(tenant)
        let response = credential["response"]?.objectValue ?? [:]
        guard let credentialID = (credential["rawId"]?.stringValue ?? credential["id"]?.stringValue).flatMap(WebAuthnBase64.decode),
              !credentialID.isEmpty, credentialID.count <= AuthenticatorData.maxCredentialIDLength,
              let clientDataJSON = response["clientDataJSON"]?.stringValue.flatMap(WebAuthnBase64.decode),
              let authenticatorData = response["authenticatorData"]?.stringValue.flatMap(WebAuthnBase64.decode),
              let signature = response["signature"]?.stringValue.flatMap(WebAuthnBase64.decode)
        else {
            throw AuthError.invalidInput("credential", "must be a PublicKeyCredential in JSON form (rawId, response.clientDataJSON, authenticatorData, signature)")
        }
        let userHandle = response["userHandle"]?.stringValue.flatMap(WebAuthnBase64.decode)
        try await env.rateLimiter.check(.login, ip: request.ipAddress, identifier: nil, scope: RateLimiter.scope(tenant, named: tenantName))
        return try await LogMetadata.withTenant(tenant.slug) {
            do {
                let challenge = try Self.challenge(in: clientDataJSON, refusal: AuthError.invalidCredentials)
                let live = try await env.db.tenantStatements(tenant) {
                    try await store.consumeChallenge(digest: Self.digest(challenge), purpose: "login", on: $0)
                }
                guard live != nil else { throw AuthError(.invalidCredentials, cause: WebAuthnVerifier.Refusal("unknown, used or expired challenge")) }
                let session = try await env.db.inTenant(tenant) { tx in
                    guard let passkey = try await store.find(credentialID: credentialID, on: tx) else {
                        throw AuthError(.invalidCredentials, cause: WebAuthnVerifier.Refusal("unknown credential"))
                    }
                    // A usernameless login learns its user from the authenticator (§7.2 step 6).
                    guard let userHandle, userHandle == Self.userHandle(passkey.userID) else {
                        throw AuthError(.invalidCredentials, cause: WebAuthnVerifier.Refusal("user handle does not match the credential"))
                    }
                    let data: AuthenticatorData
                    do {
                        data = try WebAuthnVerifier(rp).verifyAssertion(
                            clientDataJSON: clientDataJSON, authenticatorData: authenticatorData, signature: signature, challenge: challenge,
                            publicKey: passkey.publicKey, storedSignCount: passkey.signCount, backupEligible: passkey.backupEligible)
                    } catch {
                        throw AuthError(.invalidCredentials, cause: error)
                    }
                    try await store.recordUse(id: passkey.id, signCount: data.signCount, backedUp: data.backedUp, on: tx)
                    guard let user = try await env.users.stampLogin(id: passkey.userID, on: tx) else { throw AuthError.invalidCredentials }
                    guard user.isActive else { throw AuthError.accountInactive }
                    return try await LoginFlow.openSession(
                        env: env, user: user, stored: nil, tenant: tenant, provider: "passkey", request: request, tx: tx,
                        mfaSatisfied: rp.requireUserVerification)
                }
                return try await session.response(env)
            } catch let error as AuthError where error.entry == .invalidCredentials {
                request.logger.debug("passkey login refused", metadata: ["reason": "\(error.cause.map { "\($0)" } ?? "-")"])
                try await ExternalLoginFlow.recordFailure(env: env, provider: "passkey", reason: error.code, tenant: tenant, request: request)
                throw error
            }
        }
    }

    // MARK: Management

    public func list(_ principal: Principal) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await store.list(userID: principal.user.id, on: $0) }.map(\.json)
    }

    public func rename(_ principal: Principal, id: UUID, name: String) async throws {
        let label = name.trimmingCharacters(in: .whitespaces)
        guard !label.isEmpty, label.count <= 100 else { throw AuthError.invalidInput("name", "must be 1–100 characters") }
        let renamed = try await env.db.tenantStatements(principal.tenant) { try await store.rename(id: id, userID: principal.user.id, name: label, on: $0) }
        guard renamed else { throw AuthError(.passkeyNotFound) }
    }

    /// Needs a recent proof; never removes the account's last way to log in.
    public func delete(_ principal: Principal, id: UUID) async throws {
        try await env.db.inTenant(principal.tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            guard let user = try await env.users.find(id: principal.user.id, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
            guard try await store.list(userID: user.id, on: tx).contains(where: { $0.id == id }) else { throw AuthError(.passkeyNotFound) }
            try await IdentityFlow(env: env).requireAnotherWayIn(user, tenant: principal.tenant, tx: tx)
            _ = try await store.delete(id: id, userID: user.id, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .passkeyRemoved, tenantID: principal.tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: ["passkeyId": .string(id.uuidString.lowercased())]),
                in: tx)
        }
    }

    /// The challenge a client data names (to find it before verifying anything else).
    static func challenge(in clientDataJSON: [UInt8], refusal: AuthError) throws -> [UInt8] {
        guard let client = try? CollectedClientData(clientDataJSON), client.challenge.count == 32 else { throw refusal }
        return client.challenge
    }
}
