#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The tenant admin API's users and sessions (issue 18 item 3, reference §1.3). Every call acts
/// in the caller's own tenant — the tenant of the token, never one named by the request — so an
/// id of another tenant is simply not found there. Creates, updates and deletes go through
/// `UserLifecycle`: the user hooks run in the same transaction, and a throw leaves nothing.
/// Disabling or deleting a user, or setting their password, ends their sessions.
public struct AdminUserFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// A user as the admin API creates one.
    public struct NewAccount: Sendable {
        public var email: String?
        public var phone: String?
        public var password: String?
        public var isActive: Bool
        public var emailVerified: Bool
        public var roles: [String]
        public var metadata: JSONObject

        public init(
            email: String?, phone: String?, password: String?, isActive: Bool = true, emailVerified: Bool = false, roles: [String] = [],
            metadata: JSONObject = [:]
        ) {
            self.email = email
            self.phone = phone
            self.password = password
            self.isActive = isActive
            self.emailVerified = emailVerified
            self.roles = roles
            self.metadata = metadata
        }
    }

    /// `GET users`: `{data, meta: {page, limit, total, totalPages}}`, newest first.
    public func list(_ scope: AdminScope, filter: UserDirectoryStore.Filter, page: Int, limit: Int) async throws -> JSONObject {
        let (users, total) = try await env.db.tenantStatements(scope.tenant) {
            try await UserDirectoryStore().list(filter, limit: limit, offset: (page - 1) * limit, on: $0)
        }
        return [
            "data": .array(users.map { .object(Self.json($0.user, roles: $0.roles)) }),
            "meta": .object([
                "page": .int(page), "limit": .int(limit), "total": .int(total), "totalPages": .int((total + limit - 1) / limit),
            ]),
        ]
    }

    /// `GET users/:id`: the user with roles, login methods (password, linked providers, passkeys),
    /// MFA state and live sessions.
    public func get(_ scope: AdminScope, id: UUID) async throws -> JSONObject {
        try await env.db.inTenant(scope.tenant, readOnly: true) { tx in
            guard let user = try await env.users.find(id: id, on: tx) else { throw AuthError.userNotFound }
            let (roles, permissions) = try await env.roles.rolesAndPermissions(userID: id, on: tx)
            let hasPassword = try await env.credentials.passwordState(userID: id, on: tx) != nil
            let devices = try await MFAStore().devices(userID: id, on: tx)
            let recovery = try await MFAStore().recoveryCodesLeft(userID: id, on: tx)
            let sessions = try await env.sessions.list(userID: id, on: tx)
            let identities = try await IdentityStore().list(userID: id, on: tx).filter { $0.provider != "email" && $0.provider != "phone" }
            let passkeys = try await PasskeyStore().list(userID: id, on: tx)
            return [
                "user": .object(Self.json(user, roles: roles)),
                "permissions": .array(permissions.map(JSONValue.string)),
                "loginMethods": .object([
                    "emailEnabled": .bool(user.email != nil), "phoneEnabled": .bool(user.phone != nil), "hasPassword": .bool(hasPassword),
                    "identities": .array(identities.map { .object($0.json) }), "passkeys": .array(passkeys.map { .object($0.json) }),
                ]),
                "mfa": .object([
                    "isEnabled": .bool(user.isMfaEnabled), "totpDevices": .int(devices.count), "recoveryCodesLeft": .int(recovery),
                ]),
                "sessions": .array(sessions.map { .object($0.json(current: $0.id == scope.currentSessionID)) }),
            ]
        }
    }

    /// `POST users`.
    public func create(_ scope: AdminScope, _ account: NewAccount, request: AuthRequest) async throws -> JSONObject {
        let (email, phone) = try Identifier.parse(email: account.email, phone: account.phone)
        var hash: String?
        if let password = account.password {
            try env.settings(for: scope.tenant).passwordPolicy.check(
                password, context: PasswordPolicy.contextWords(email: email, phone: phone, tenant: scope.tenant))
            hash = try await env.hashPassword(password)
        }
        return try await env.db.inTenant(scope.tenant) { tx in
            // Roles must exist: an admin's typo must not create a role.
            try await Self.requireRoles(account.roles, on: tx)
            try scope.requireHolding(try await env.roles.permissions(ofRoles: account.roles, on: tx), "Assigning these roles")
            var user = try await UserLifecycle(env: env).create(
                NewUser(email: email, phone: phone, isActive: account.isActive, metadata: account.metadata, roles: account.roles),
                passwordHash: hash, tenant: scope.tenant, tx: tx, logger: request.logger)
            if account.emailVerified, email != nil {
                user = try await UserLifecycle(env: env).update(
                    userID: user.id, UserChanges(emailVerified: true), tenant: scope.tenant, tx: tx, logger: request.logger)
            }
            let roles = try await env.roles.rolesAndPermissions(userID: user.id, on: tx).roles
            return Self.json(user, roles: roles)
        }
    }

    /// `PATCH users/:id`: profile fields through the lifecycle (its hooks, its event); roles
    /// replaced when given; a password set when given (every session of the user ends). A
    /// tenant admin cannot deactivate themselves nor drop `auth.admin` from their own roles
    /// (409 `ADMIN_SELF_LOCKOUT`): the tenant would be left to a platform admin to recover.
    public func update(
        _ scope: AdminScope, id: UUID, changes: UserChanges, roles: [String]?, password: String?, request: AuthRequest
    ) async throws -> JSONObject {
        if scope.callerID == id, changes.isActive == false { throw AuthError(.adminSelfLockout) }
        var hash: String?
        if let password {
            let known = try await env.db.tenantStatements(scope.tenant) { try await env.users.find(id: id, on: $0) }
            guard let known else { throw AuthError.userNotFound }
            try env.settings(for: scope.tenant).passwordPolicy.check(
                password, context: PasswordPolicy.contextWords(email: known.email, phone: known.phone, tenant: scope.tenant))
            hash = try await env.hashPassword(password)
        }
        return try await env.db.inTenant(scope.tenant) { tx in
            try await Self.requireNotAbove(scope, userID: id, env: env, tx: tx)
            if let roles {
                let granted = try await env.roles.permissions(ofRoles: roles, on: tx)
                try scope.requireHolding(granted, "Assigning these roles")
                try await SelfLockoutGuard.refuseOwnRolesWithoutAdmin(scope, userID: id, granting: granted, roles: env.roles, tx: tx)
            }
            let lifecycle = UserLifecycle(env: env)
            var user = try await lifecycle.update(userID: id, changes, tenant: scope.tenant, tx: tx, logger: request.logger)
            var endSessions: String?
            if let roles, try await env.roles.setRoles(roles, of: id, on: tx) {
                try await env.outbox.append(
                    AuthEvent(
                        .userRolesChanged, tenantID: scope.tenant.id, subject: AuthEvent.user(id),
                        data: ["roles": .array(roles.map(JSONValue.string))]), in: tx)
                if env.settings.revokeSessionsOnRoleChange { endSessions = "roles_changed" }
            }
            if let hash {
                // As a reset does (the usual reason: an account to take back): older reset
                // tokens, trusted devices and API keys go with the old password.
                _ = try await env.credentials.setPassword(userID: id, hash: hash, on: tx)
                try await env.codes.deleteResetTokens(userID: id, on: tx)
                try await MFAStore().deleteTrustedDevices(userID: id, on: tx)
                let keys = try await APIKeyStore().revokeAll(userID: id, on: tx)
                try await env.outbox.append(
                    AuthEvent(.passwordChanged, tenantID: scope.tenant.id, subject: AuthEvent.user(id), data: ["apiKeysRevoked": .int(keys)]),
                    in: tx)
                endSessions = "password_set_by_admin"
            }
            if let endSessions {
                _ = try await SessionOpener(env: env).revokeAll(userID: id, reason: endSessions, tenant: scope.tenant, tx: tx)
            }
            user = try await env.users.find(id: id, on: tx) ?? user
            let current = try await env.roles.rolesAndPermissions(userID: id, on: tx).roles
            return Self.json(user, roles: current)
        }
    }

    /// `DELETE users/:id`; not the caller's own account (409 `ADMIN_SELF_LOCKOUT`).
    public func delete(_ scope: AdminScope, id: UUID, request: AuthRequest) async throws {
        if scope.callerID == id { throw AuthError(.adminSelfLockout) }
        try await env.db.inTenant(scope.tenant) { tx in
            try await Self.requireNotAbove(scope, userID: id, env: env, tx: tx)
            try await UserLifecycle(env: env).delete(userID: id, tenant: scope.tenant, tx: tx, logger: request.logger)
        }
    }

    /// `GET users/:id/sessions`.
    public func sessions(_ scope: AdminScope, userID: UUID) async throws -> [JSONObject] {
        try await env.db.inTenant(scope.tenant, readOnly: true) { tx in
            guard try await env.users.find(id: userID, on: tx) != nil else { throw AuthError.userNotFound }
            return try await env.sessions.list(userID: userID, on: tx).map { $0.json(current: $0.id == scope.currentSessionID) }
        }
    }

    /// `DELETE users/:id/sessions/:sessionId` (404 `NOT_FOUND` unless it is a live session of that user).
    public func revokeSession(_ scope: AdminScope, userID: UUID, sessionID: UUID) async throws {
        try await env.db.inTenant(scope.tenant) { tx in
            guard let session = try await env.sessions.revoke(sessionID: sessionID, reason: "revoked_by_admin", owner: userID, on: tx) else {
                throw AuthError(.notFound, message: "Session not found")
            }
            try await SessionOpener(env: env).revoked(session, reason: "revoked_by_admin", tenant: scope.tenant, tx: tx)
        }
    }

    /// `DELETE users/:id/sessions`: every session of one user; returns how many ended.
    public func revokeSessions(_ scope: AdminScope, userID: UUID) async throws -> Int {
        try await env.db.inTenant(scope.tenant) { tx in
            guard try await env.users.find(id: userID, on: tx) != nil else { throw AuthError.userNotFound }
            return try await SessionOpener(env: env).revokeAll(userID: userID, reason: "revoked_by_admin", tenant: scope.tenant, tx: tx).count
        }
    }

    /// `DELETE sessions`: every session of the tenant, the caller's own included; returns how many.
    public func revokeAllSessions(_ scope: AdminScope) async throws -> Int {
        try await env.db.inTenant(scope.tenant) { tx in
            let sessions = try await env.sessions.revokeAllInTenant(reason: "revoked_by_admin", on: tx)
            for session in sessions { try await SessionOpener(env: env).revoked(session, reason: "revoked_by_admin", tenant: scope.tenant, tx: tx) }
            return sessions.count
        }
    }

    /// A tenant admin acts only on users whose permissions they hold themselves (404 first for
    /// an unknown user).
    static func requireNotAbove(_ scope: AdminScope, userID: UUID, env: AuthEnvironment, tx: PGTransaction) async throws {
        guard scope.permissions != nil else { return }
        guard try await env.users.find(id: userID, on: tx) != nil else { throw AuthError.userNotFound }
        try scope.requireHolding(try await env.roles.rolesAndPermissions(userID: userID, on: tx).permissions, "Changing this user")
    }

    /// `ROLE_NOT_FOUND` naming the first reference that is not a role of this tenant.
    static func requireRoles(_ roles: [String], on tx: PGTransaction) async throws {
        for reference in roles where try await RoleRegistryStore().role(reference: reference, on: tx) == nil {
            throw AuthError(.roleNotFound, message: "Role not found: \(reference)")
        }
    }

    static func json(_ user: User, roles: [String]) -> JSONObject {
        var o = user.json
        o["roles"] = .array(roles.map(JSONValue.string))
        return o
    }
}
