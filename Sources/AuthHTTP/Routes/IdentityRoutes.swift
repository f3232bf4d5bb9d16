import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// `GET /auth/identities`, `DELETE /auth/identities/:id` (guarded): the caller's linked
/// identities.
struct IdentityRoutes: Sendable {
    let env: AuthEnvironment

    func register(on auth: RouterGroup<AuthenticatedContext>) {
        auth.get("identities") { _, context in
            JSONResponse.make(.array(try await IdentityFlow(env: env).list(context.principal).map(JSONValue.object)))
        }
        auth.delete("identities/:id", use: unlink)
    }

    @Sendable func unlink(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw AuthError.invalidInput("id", "must be an identity id")
        }
        try await IdentityFlow(env: env).unlink(context.principal, id: id)
        return JSONResponse.message("Identity unlinked")
    }
}
