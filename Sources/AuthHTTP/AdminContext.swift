import AuthCore
import Hummingbird
import NIOCore

/// The context of the tenant admin API: made only from a request `AdminScopeMiddleware`
/// admitted — a tenant admin's token or a platform admin's console session — so every handler
/// has its scope (fail closed otherwise).
public struct AdminContext: ChildRequestContext, RemoteAddressRequestContext {
    public typealias ParentContext = AuthRequestContext
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let scope: AdminScope
    /// The request's JSON body (empty for reads), already read by the middleware.
    let body: JSONObject

    public init(context: AuthRequestContext) throws {
        guard let scope = context.adminScope else { throw AuthError.noAuthProvided }
        coreContext = context.coreContext
        remoteAddress = context.remoteAddress
        self.scope = scope
        body = context.body ?? [:]
    }

    public var maxUploadSize: Int { 64 * 1024 }
}
