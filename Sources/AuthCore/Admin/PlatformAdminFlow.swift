#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import Crypto
import PGKit

/// The admin console's accounts (reference §1.3, behaviour 40): the first admin from the
/// bootstrap secret while none exists, the others from an admin or `authd admin create`; login
/// to an opaque console session (a cookie; stored as its SHA-256), ended by logout and by a
/// password change; the last admin cannot be deleted.
public struct PlatformAdminFlow: Sendable {
    let env: AuthEnvironment
    let store = PlatformAdminStore()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// A platform admin authenticated by a console session.
    public struct Console: Sendable {
        public let admin: PlatformAdmin
        public let sessionID: UUID
    }

    /// `POST /auth/admin/signup`: 403 `ADMIN_BOOTSTRAP_CLOSED` once an admin exists (whatever the
    /// key), 401 `INVALID_SECRET_KEY` for a wrong key, 403 `ADMIN_CONSOLE_SECRET_NOT_CONFIGURED`
    /// without one.
    public func bootstrap(email rawEmail: String?, password: String?, name: String?, secretKey: String?) async throws -> PlatformAdmin {
        // Closed first: once an admin exists, the answer says nothing about the key.
        if try await env.db.statements({ try await store.count(on: $0) }) > 0 { throw AuthError(.adminBootstrapClosed) }
        guard let secret = env.settings.adminBootstrapSecret else { throw AuthError(.adminConsoleSecretNotConfigured) }
        guard let secretKey, ConstantTime.equals(secretKey, secret) else { throw AuthError(.invalidSecretKey) }
        let (email, hash) = try await validated(email: rawEmail, password: password)
        let admin = try await env.db.transaction(PGTransactionOptions()) { tx in
            let made = try await store.bootstrap(email: email, name: name, passwordHash: hash, in: tx)
            if let made { try await audit(.platformAdminCreated, ["admin": .object(made.json), "bootstrap": .bool(true)], actor: made, tx: tx) }
            return made
        }
        guard let admin else {
            throw AuthError(.adminBootstrapClosed)
        }
        return admin
    }

    /// Creates an admin (by an admin, or the CLI).
    public func create(email rawEmail: String?, password: String?, name: String?) async throws -> PlatformAdmin {
        let (email, hash) = try await validated(email: rawEmail, password: password)
        return try await env.db.transaction(PGTransactionOptions()) { tx in
            let admin = try await store.insert(email: email, name: name, passwordHash: hash, on: tx)
            try await audit(.platformAdminCreated, ["admin": .object(admin.json)], tx: tx)
            return admin
        }
    }

    public func list() async throws -> [PlatformAdmin] {
        try await env.db.statements { try await store.list(on: $0) }
    }

    /// 409 `ADMIN_LAST_REMAINING` for the last one; 404 `ADMIN_USER_NOT_FOUND` for an unknown id.
    public func delete(id: UUID) async throws {
        let deleted = try await env.db.transaction(PGTransactionOptions()) { tx in
            let deleted = try await store.delete(adminID: id, in: tx)
            if deleted { try await audit(.platformAdminDeleted, ["adminId": .string(id.uuidString.lowercased())], tx: tx) }
            return deleted
        }
        guard deleted else { throw AuthError(.adminUserNotFound) }
    }

    /// `POST /auth/admin/login`: the admin and the console session's token (for the cookie).
    /// Unknown e-mail and wrong password answer alike (a dummy verify for the former), and the
    /// tries count against the login limits of the address and the e-mail.
    public func login(email rawEmail: String?, password: String?, request: AuthRequest) async throws -> (admin: PlatformAdmin, token: String) {
        guard let rawEmail, let password, !password.isEmpty, let email = Identifier.email(rawEmail) else { throw AuthError.invalidCredentials }
        try await env.rateLimiter.check(.login, ip: request.ipAddress, identifier: email, scope: "platform-admins")
        let found = try await env.db.statements { try await store.credentials(email: email, on: $0) }
        guard let found else {
            _ = try await env.verifyPassword(password, await LoginFlow.dummyHashTask.value(env))
            try await failedLogin(email)
        }
        guard try await env.verifyPassword(password, found.hash) else { try await failedLogin(email) }
        let token = "pa1." + Base64URL.encode(try SecureRandom.bytes(32))
        try await env.db.transaction(PGTransactionOptions()) { tx in
            try await store.openSession(
                adminID: found.admin.id, digest: Self.digest(token), lifetime: env.settings.adminSessionTTL, ip: request.ipAddress,
                userAgent: request.headers["user-agent"].map { String($0.prefix(512)) }, on: tx)
            try await audit(.platformLogin, [:], actor: found.admin, tx: tx)
        }
        return (found.admin, token)
    }

    /// The admin of a console session token, or 401 `NO_AUTH_PROVIDED` / `SESSION_NOT_FOUND`.
    public func authenticate(token: String?) async throws -> Console {
        guard let token, !token.isEmpty else { throw AuthError.noAuthProvided }
        guard token.utf8.count <= 128, let found = try await env.db.statements({ try await store.admin(sessionDigest: Self.digest(token), on: $0) })
        else { throw AuthError(.sessionNotFound) }
        return Console(admin: found.admin, sessionID: found.sessionID)
    }

    public func logout(token: String) async throws {
        try await env.db.statements { try await store.closeSession(digest: Self.digest(token), on: $0) }
    }

    /// Checks the current password, sets the new one, ends every console session of the admin.
    public func changePassword(_ console: Console, current: String?, new: String?) async throws {
        guard let current, let new else { throw AuthError(.missingRequiredFields) }
        guard let hash = try await env.db.statements({ try await store.passwordHash(adminID: console.admin.id, on: $0) }),
              try await env.verifyPassword(current, hash)
        else { throw AuthError(.currentPasswordIncorrect) }
        guard current != new else { throw AuthError(.newPasswordSameAsCurrent) }
        let (_, newHash) = try await validated(email: console.admin.email, password: new)
        try await env.db.transaction(PGTransactionOptions()) { tx in
            try await store.setPassword(adminID: console.admin.id, hash: newHash, on: tx)
            try await audit(.platformPasswordChanged, [:], actor: console.admin, tx: tx)
        }
    }

    /// A failed console sign-in leaves its trace (committed on its own), then answers as a
    /// wrong password — for an unknown e-mail too.
    private func failedLogin(_ email: String) async throws -> Never {
        try await env.db.transaction(PGTransactionOptions()) { tx in
            try await audit(.platformLoginFailed, ["email": .string(email)], tx: tx)
        }
        throw AuthError.invalidCredentials
    }

    /// The platform trail's event (`auth.platform_audit_log`, by the outbox trigger) in `tx`;
    /// the actor is the request's admin unless given.
    private func audit(_ name: AuthEvent.Name, _ data: JSONObject, actor: PlatformAdmin? = nil, tx: PGTransaction) async throws {
        try await env.outbox.append(AuthEvent(name, tenantID: nil, actor: actor?.auditActor ?? [:], data: data), in: tx)
    }

    /// A plausible e-mail and a password passing the policy (at least 12 characters for an
    /// operator), hashed.
    private func validated(email rawEmail: String?, password: String?) async throws -> (String, String) {
        let email = try Self.checkCredentials(email: rawEmail, password: password, policy: env.settings.passwordPolicy)
        return (email, try await env.hashPassword(password ?? ""))
    }

    /// The normalised e-mail, once it is plausible and `password` passes `policy` raised to at
    /// least 12 characters (an operator's account); 400 otherwise. Shared with `authd admin create`.
    public static func checkCredentials(email rawEmail: String?, password: String?, policy: PasswordPolicy) throws -> String {
        guard let rawEmail, let email = Identifier.email(rawEmail) else { throw AuthError(.invalidEmailFormat) }
        guard let password else { throw AuthError(.missingRequiredFields) }
        var policy = policy
        policy.minLength = max(policy.minLength, 12)
        try policy.check(password, context: [String(email.prefix { $0 != "@" }), email])
        return email
    }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }
}
