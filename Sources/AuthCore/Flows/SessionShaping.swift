#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The shaping steps every flow that mints tokens shares (signup, login, refresh): roles and
/// permissions, session user data, session data, token claims — each with its hook.
struct SessionShaping: Sendable {
    struct Shape: Sendable {
        var roles: [String]
        var permissions: [String]
        /// The session user as clients see it (sensitive fields removed).
        var sessionUser: JSONObject
        /// What the session row keeps.
        var sessionData: JSONObject
    }

    let env: AuthEnvironment

    /// Roles → permissions → `getSessionUserData` → `customizeSessionData`.
    /// `stored`: the user's roles and permissions when the caller already read them.
    func shape(user: User, tenant: Tenant, tx: PGTransaction, stored known: (roles: [String], permissions: [String])? = nil)
        async throws -> Shape
    {
        let ctx = AuthHooks.ShapingContext(tenant: tenant, tx: tx)
        let stored: (roles: [String], permissions: [String])
        if let known { stored = known } else { stored = try await env.roles.rolesAndPermissions(userID: user.id, on: tx) }
        var roles = stored.roles
        var permissions = stored.permissions
        if let resolveRoles = env.hooks.authorization.resolveRoles {
            roles = try await resolveRoles(user, ctx)
            permissions = try await env.roles.permissions(ofRoles: roles, on: tx)
        }
        if let resolvePermissions = env.hooks.authorization.resolvePermissions {
            permissions = try await resolvePermissions(user, roles, ctx)
        }
        var sessionUser = Self.defaultSessionUser(user, tenant: tenant, roles: roles, permissions: permissions)
        if let hook = env.hooks.user.getSessionUserData { sessionUser = try await hook(user, sessionUser, ctx) }
        sessionUser = Self.removing(env.hooks.user.sensitiveFields, from: sessionUser)
        var data = Self.defaultSessionData(user, sessionUser: sessionUser, roles: roles, permissions: permissions)
        if let hook = env.hooks.session.customizeSessionData { data = try await hook(data, user) }
        return Shape(roles: roles, permissions: permissions, sessionUser: sessionUser, sessionData: data)
    }

    /// True when no shaping hook needs the transaction: the shape is then a pure function of the
    /// rows, and a flow may run its whole transaction in one pool-thread hop.
    var isPure: Bool {
        let h = env.hooks
        return h.authorization.resolveRoles == nil && h.authorization.resolvePermissions == nil
            && h.user.getSessionUserData == nil && h.session.customizeSessionData == nil
    }

    /// The shape without hooks (see `isPure`).
    func pureShape(user: User, tenant: Tenant, roles: [String], permissions: [String]) -> Shape {
        let sessionUser = Self.removing(
            env.hooks.user.sensitiveFields, from: Self.defaultSessionUser(user, tenant: tenant, roles: roles, permissions: permissions))
        return Shape(
            roles: roles, permissions: permissions, sessionUser: sessionUser,
            sessionData: Self.defaultSessionData(user, sessionUser: sessionUser, roles: roles, permissions: permissions))
    }

    static func defaultSessionUser(_ user: User, tenant: Tenant, roles: [String], permissions: [String]) -> JSONObject {
        [
            "id": .string(user.id.uuidString.lowercased()),
            "email": user.email.map(JSONValue.string) ?? .null,
            "phone": user.phone.map(JSONValue.string) ?? .null,
            "emailVerifiedAt": user.emailVerifiedAt.map { .string(ISO8601.format($0)) } ?? .null,
            "phoneVerifiedAt": user.phoneVerifiedAt.map { .string(ISO8601.format($0)) } ?? .null,
            "isMfaEnabled": .bool(user.isMfaEnabled),
            "roles": .array(roles.map(JSONValue.string)),
            "permissions": .array(permissions.map(JSONValue.string)),
            "metadata": .object(user.metadata),
            "tenantId": .string(tenant.id.uuidString.lowercased()),
        ]
    }

    static func defaultSessionData(_ user: User, sessionUser: JSONObject, roles: [String], permissions: [String]) -> JSONObject {
        [
            "user": .object(sessionUser), "roles": .array(roles.map(JSONValue.string)),
            "permissions": .array(permissions.map(JSONValue.string)), "isMfaEnabled": .bool(user.isMfaEnabled),
            "isMfaVerified": .bool(false),
        ]
    }

    /// Builds the access-token claims, applies `customizeTokenPayload`, signs.
    func accessToken(session: Session, user: User, tenant: Tenant, shape: Shape) async throws -> String {
        let now = env.now()
        var claims = AccessTokenClaims(
            issuer: env.settings.issuer, audience: env.settings.audience, subject: user.id.uuidString.lowercased(),
            issuedAt: now, expiresAt: now.addingTimeInterval(env.settings.accessTokenTTL.timeInterval),
            tokenID: UUID().uuidString.lowercased(), sessionID: session.id.uuidString.lowercased(),
            tenantID: tenant.id.uuidString.lowercased(), roles: shape.roles,
            permissions: env.settings.includePermissionsInToken ? shape.permissions : nil,
            isMfaEnabled: user.isMfaEnabled, isMfaVerified: session.mfaVerified)
        if let hook = env.hooks.session.customizeTokenPayload {
            let custom = try await hook(claims.json, session)
            claims.custom = custom.filter { !AccessTokenClaims.reserved.contains($0.key) }
        }
        return try await env.tokens.sign(claims)
    }

    /// The AuthResponse, through `transformResponse`.
    func response(access: String, refresh: String, shape: Shape, message: String, context: String) async throws -> AuthResponse {
        var response = AuthResponse(
            accessToken: access, refreshToken: refresh, user: shape.sessionUser, message: message,
            accessTokenExpiresIn: env.settings.accessTokenTTL.wholeSeconds,
            refreshTokenExpiresIn: env.settings.sessionAbsoluteLifetime.wholeSeconds)
        if let hook = env.hooks.transformResponse { response = try await hook(response, context) }
        return response
    }

    /// Removes dotted paths (`metadata.internalNotes`) from an object.
    static func removing(_ paths: [String], from object: JSONObject) -> JSONObject {
        var out = object
        for path in paths {
            let parts = path.split(separator: ".").map(String.init)
            out = remove(parts[...], from: out)
        }
        return out
    }

    private static func remove(_ path: ArraySlice<String>, from object: JSONObject) -> JSONObject {
        guard let head = path.first else { return object }
        var out = object
        if path.count == 1 {
            out[head] = nil
        } else if case .object(let inner) = out[head] {
            out[head] = .object(remove(path.dropFirst(), from: inner))
        }
        return out
    }
}
