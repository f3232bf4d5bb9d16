import Hummingbird
import NIOCore

/// The request context of authd's routes: Hummingbird's core storage plus the peer address
/// and a body limit of 64 KiB (auth requests are small; anything larger is refused with 413).
public struct AuthRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { 64 * 1024 }
}
