import AuthCore
import Hummingbird
import Logging
import NIOCore

/// The request context of authd's routes: Hummingbird's core storage, the peer address, a body
/// limit of 64 KiB (auth requests are small; anything larger is refused with 413) — and, once
/// the guard middleware ran, who the request acts as (see `AuthenticatedContext`).
public struct AuthRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set only by `AuthGuardMiddleware`.
    var principal: Principal?
    /// The JSON body the guard read (guarded writes), so the handler does not read it twice.
    var body: JSONObject?
    /// Set only by `ConsoleGuardMiddleware`: the platform admin of the console session.
    var console: PlatformAdminFlow.Console?
    /// Set only by `AdminScopeMiddleware`: who administers which tenant.
    var adminScope: AdminScope?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { 64 * 1024 }
}

extension RemoteAddressRequestContext {
    /// What flows and hooks are told about the request (and its logger, with `request_id`); its
    /// address is the peer's, or what `X-Forwarded-For` says when the peer is a trusted proxy.
    func authRequest(_ request: Request, proxies: TrustedProxies) -> AuthRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        return AuthRequest(
            method: request.method.rawValue, path: request.uri.path, headers: headers, ipAddress: proxies.clientAddress(peer: remoteAddress?.ipAddress, forwardedFor: headers["x-forwarded-for"]), logger: logger)
    }
}
