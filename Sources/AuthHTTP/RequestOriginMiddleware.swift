import AuthCore
import HTTPTypes
import Hummingbird

/// Binds `RequestOrigin.current` for the request: the client address (the peer's, or what
/// `X-Forwarded-For` says when the peer is a trusted proxy), its user agent and request id —
/// what the audit rows of the events it causes record.
struct RequestOriginMiddleware: RouterMiddleware {
    typealias Context = AuthRequestContext
    let proxies: TrustedProxies
    static let forwardedFor = HTTPField.Name("x-forwarded-for")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let forwarded = request.headers[values: Self.forwardedFor]
        let origin = RequestOrigin(
            ipAddress: proxies.clientAddress(
                peer: context.remoteAddress?.ipAddress, forwardedFor: forwarded.isEmpty ? nil : forwarded.joined(separator: ", ")),
            userAgent: request.headers[.userAgent], requestID: LogMetadata.requestID)
        return try await RequestOrigin.$current.withValue(origin) { try await next(request, context) }
    }
}
