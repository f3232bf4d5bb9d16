import AuthCore
import Hummingbird
import NIOCore

/// The context of the admin console's routes: made only from a request whose console cookie
/// `ConsoleGuardMiddleware` authenticated (fail closed otherwise, like `AuthenticatedContext`).
public struct ConsoleContext: ChildRequestContext, RemoteAddressRequestContext {
    public typealias ParentContext = AuthRequestContext
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let console: PlatformAdminFlow.Console
    /// The request's JSON body (empty for reads).
    let body: JSONObject

    public init(context: AuthRequestContext) throws {
        guard let console = context.console else { throw AuthError.noAuthProvided }
        coreContext = context.coreContext
        remoteAddress = context.remoteAddress
        self.console = console
        body = context.body ?? [:]
    }

    public var maxUploadSize: Int { 64 * 1024 }
}
