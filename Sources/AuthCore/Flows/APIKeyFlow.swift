#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// The caller's API keys (API.md `GET/POST/DELETE /auth/api-keys`): made only from a session
/// (never from another key), the secret shown once in the creation answer and stored only as
/// its SHA-256; listed without secrets; revoked by their owner.
public struct APIKeyFlow: Sendable {
    let env: AuthEnvironment
    let store = APIKeyStore()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// Returns the listing plus `key` (`<public>.<secret>`), the only time the secret is seen.
    public func create(_ principal: Principal, name: String, lifetime: Duration?) async throws -> JSONObject {
        guard principal.apiKeyID == nil else { throw AuthError.accessDenied("API keys are made from a signed-in session", afterAuth: true) }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw AuthError.invalidInput("name", "is required") }
        let key = try APIKey.mint(tenantID: principal.tenant.id)
        let listed = try await env.db.inTenant(principal.tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            let listed = try await store.insert(
                userID: principal.user.id, name: trimmed, publicKey: key.publicKey, secretDigest: key.secretDigest, lifetime: lifetime, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .accessKeyCreated, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id),
                    subject: AuthEvent.user(principal.user.id),
                    data: ["keyId": .string(listed.id.uuidString.lowercased()), "name": .string(trimmed), "publicKey": .string(key.publicKey)]),
                in: tx)
            return listed
        }
        var out = listed.json
        out["key"] = .string(key.value)
        return out
    }

    public func list(_ principal: Principal) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await store.list(userID: principal.user.id, on: $0) }.map(\.json)
    }

    /// 404 for a key that is not the caller's.
    public func revoke(_ principal: Principal, id: UUID) async throws {
        try await env.db.inTenant(principal.tenant) { tx in
            guard let revoked = try await store.revoke(id: id, userID: principal.user.id, on: tx) else {
                throw AuthError(.notFound, message: "API key not found")
            }
            try await env.outbox.append(
                AuthEvent(
                    .accessKeyDeactivated, tenantID: principal.tenant.id, actor: AuthEvent.user(principal.user.id),
                    subject: AuthEvent.user(principal.user.id), data: ["keyId": .string(revoked.id.uuidString.lowercased())]),
                in: tx)
        }
    }
}
