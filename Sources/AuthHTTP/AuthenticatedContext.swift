import AuthCore
import Hummingbird
import NIOCore

/// The context of guarded routes: made only from a request the guard middleware authenticated,
/// so a guarded handler always has its principal — and a route registered on the guarded group
/// without the middleware in front fails closed (401) instead of serving anonymously.
public struct AuthenticatedContext: ChildRequestContext, RemoteAddressRequestContext {
    public typealias ParentContext = AuthRequestContext
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Who the request acts as.
    public let principal: Principal
    /// The request's JSON body (empty for reads), already checked by the guard.
    let body: JSONObject

    public init(context: AuthRequestContext) throws {
        guard let principal = context.principal else { throw AuthError.noAuthProvided }
        coreContext = context.coreContext
        remoteAddress = context.remoteAddress
        self.principal = principal
        body = context.body ?? [:]
    }

    public var maxUploadSize: Int { 64 * 1024 }
}
