import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// The guarded `/auth` routes of API.md: the caller's user, session and sessions. Registered on
/// a group whose context is `AuthenticatedContext`, so each handler has its principal.
struct SessionRoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    func register(on auth: RouterGroup<AuthenticatedContext>) {
        auth.post("logout-all", use: logoutAll)
        auth.get("me", use: me)
        auth.get("user", use: user)
        auth.get("verify-session", use: verifySession)
        auth.get("sessions", use: sessions)
        auth.delete("sessions/:id", use: revokeSession)
    }

    @Sendable func logoutAll(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let count = try await LogoutAllFlow(env: env).run(context.principal)
        return JSONResponse.make(
            .object(["message": .string("Logged out from all devices successfully"), "revokedSessions": .int(count)]),
            headers: transport.clearingCookies())
    }

    @Sendable func me(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        JSONResponse.make(.object(Authenticator(env: env).sessionUser(of: context.principal)))
    }

    @Sendable func user(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        JSONResponse.make(.object(try await Authenticator(env: env).userWithRoles(of: context.principal)))
    }

    @Sendable func verifySession(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let principal = context.principal
        return JSONResponse.make(.object([
            "valid": .bool(true), "userId": .string(principal.user.id.uuidString.lowercased()),
            "sessionId": .string(principal.session.id.uuidString.lowercased()),
            "expiresAt": .string(ISO8601.format(min(principal.session.idleExpiresAt, principal.session.expiresAt))),
        ]))
    }

    @Sendable func sessions(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let principal = context.principal
        let list = try await Authenticator(env: env).sessions(of: principal)
        return JSONResponse.make(.array(list.map { .object($0.json(current: $0.id == principal.session.id)) }))
    }

    @Sendable func revokeSession(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw AuthError.invalidInput("id", "must be a session id")
        }
        try await Authenticator(env: env).revokeOwnSession(id, of: context.principal)
        return JSONResponse.message("Session revoked")
    }
}
