import AuthClient
import Hummingbird

/// The example's request context: Hummingbird's, plus the identity `AuthClientMiddleware` sets.
public struct NotesContext: AuthClientRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: AuthIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }
}
