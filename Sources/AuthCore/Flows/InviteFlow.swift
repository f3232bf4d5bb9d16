#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// `POST /auth/invite` (reference §6.11, API.md): a user holding `users.invite` invites an
/// address into their tenant. The account is made (through the user lifecycle, with its hooks
/// and `auth.user.created`) or found; a set-password token — a reset token living
/// `inviteTTL`, stored as SHA-256 — travels only sealed inside `auth.user_invited`, never in the
/// answer; the invitee accepts through `POST /auth/reset-password`.
public struct InviteFlow: Sendable {
    let env: AuthEnvironment

    public static let permission = "users.invite"

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// Returns `{user, isNewUser}`.
    public func invite(_ principal: Principal, email rawEmail: String?, phone rawPhone: String?, metadata: JSONObject, request: AuthRequest)
        async throws -> JSONObject
    {
        let tenant = principal.tenant
        let (email, phone) = try Identifier.parse(email: rawEmail, phone: rawPhone)
        let token = try PasswordResetToken.mint(tenantID: tenant.id)
        return try await env.db.inTenant(tenant) { tx in
            // Checked in the transaction, from the stored roles: a token minted before a role
            // was taken away does not keep the right.
            let (_, permissions) = try await env.roles.rolesAndPermissions(userID: principal.user.id, on: tx)
            guard permissions.contains(Self.permission) else {
                throw AuthError(.missingRequiredPermissions, message: "Missing required permissions: \(Self.permission)")
            }
            let existing = try await env.users.find(email: email, phone: email == nil ? phone : nil, on: tx)
            let user: User
            if let existing { user = existing } else {
                user = try await UserLifecycle(env: env).create(
                    NewUser(email: email, phone: phone, metadata: metadata), passwordHash: nil, tenant: tenant, tx: tx, logger: request.logger)
            }
            let expiresAt = try await env.codes.insertResetToken(
                userID: user.id, digest: token.digest, ttl: env.settings.inviteTTL, keepingOthers: true, on: tx)
            var event = AuthEvent(
                .userInvited, tenantID: tenant.id, actor: AuthEvent.user(principal.user.id), subject: AuthEvent.user(user.id),
                data: [
                    "email": user.email.map(JSONValue.string) ?? .null, "phone": user.phone.map(JSONValue.string) ?? .null,
                    "isNewUser": .bool(existing == nil), "invitedBy": .string(principal.user.id.uuidString.lowercased()),
                    "purpose": .string("invite"), "channel": .string(user.email != nil ? "email" : "sms"),
                    "recipient": (user.email ?? user.phone).map(JSONValue.string) ?? .null, "expiresAt": .string(ISO8601.format(expiresAt)),
                ])
            event.secret = AuthEvent.OneTimeSecret(token.value, expiresAt: expiresAt)
            try await env.outbox.append(event, in: tx)
            // Only what the inviter typed and the id: an existing account's profile is not theirs to read.
            let summary: JSONObject = [
                "id": .string(user.id.uuidString.lowercased()), "email": user.email.map(JSONValue.string) ?? .null,
                "phone": user.phone.map(JSONValue.string) ?? .null,
            ]
            return ["user": .object(summary), "isNewUser": .bool(existing == nil)]
        }
    }
}
