import Hummingbird

/// A request context that can carry the caller's identity.
public protocol AuthClientRequestContext: RequestContext {
    /// Set by `AuthClientMiddleware` before the handler runs.
    var identity: AuthIdentity? { get set }
}

/// Verifies the bearer token of every request it sees and puts the caller's `AuthIdentity` on
/// the context; refuses (authd's envelope and codes) without one.
public struct AuthClientMiddleware<Context: AuthClientRequestContext>: RouterMiddleware {
    let verifier: AccessTokenVerifier

    public init(verifier: AccessTokenVerifier) {
        self.verifier = verifier
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // authd's rules (TokenTransport): no header or an empty token → NO_AUTH_PROVIDED,
        // another scheme → INVALID_AUTH_TYPE.
        guard let header = request.headers[.authorization] else { throw AuthClientError.noAuthProvided }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let scheme = parts.first else { throw AuthClientError.noAuthProvided }
        guard scheme.lowercased() == "bearer" else { throw AuthClientError.invalidAuthType }
        let token = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        guard !token.isEmpty else { throw AuthClientError.noAuthProvided }
        var context = context
        context.identity = try await verifier.verify(token)
        return try await next(request, context)
    }
}

/// Refuses requests whose identity does not meet `requirement` (place after `AuthClientMiddleware`).
public struct RequireAccess<Context: AuthClientRequestContext>: RouterMiddleware {
    let requirement: AuthRequirement

    public init(_ requirement: AuthRequirement) {
        self.requirement = requirement
    }

    /// `RequireAccess(.roles(["editor", "admin"], match: .any))`, spelled as the issue asks.
    public static func requireRoles(_ roles: [String], match: AuthRequirement.Match = .any) -> Self {
        Self(.roles(roles, match: match))
    }

    public static func requirePermissions(_ permissions: [String], match: AuthRequirement.Match = .all) -> Self {
        Self(.permissions(permissions, match: match))
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else { throw AuthClientError.noAuthProvided }
        try requirement.check(identity)
        return try await next(request, context)
    }
}
