/// The login providers of a deployment by `providerName` (AUTH_PROVIDERS and the embedder's
/// `AuthProvider`s); a tenant may narrow them to a subset (`AuthSettings.enabledProviders`,
/// tenant setting `providers`). `email`, `phone` and `passwordless` are built in, not here.
public struct ProviderRegistry: Sendable {
    /// Names the built-in ways of logging in use; no provider may take one.
    public static let reserved: Set<String> = ["email", "phone", "passwordless", "passkey"]

    let byName: [String: any AuthProvider]

    /// No providers.
    public static let empty = ProviderRegistry(checked: [:])

    private init(checked byName: [String: any AuthProvider]) {
        self.byName = byName
    }

    /// Throws `ProviderConfigurationError` for a reserved, malformed or repeated name.
    public init(_ providers: [any AuthProvider] = []) throws {
        var byName: [String: any AuthProvider] = [:]
        for provider in providers {
            guard !Self.reserved.contains(provider.name) else {
                throw ProviderConfigurationError("provider name \(provider.name) is reserved")
            }
            guard Self.isValidName(provider.name) else {
                throw ProviderConfigurationError("provider name \(provider.name) must be 1–64 of a–z, 0–9, '-', '_', ':'")
            }
            guard byName[provider.name] == nil else { throw ProviderConfigurationError("provider \(provider.name) is configured twice") }
            byName[provider.name] = provider
        }
        self.byName = byName
    }

    /// Every configured name, sorted.
    public var names: [String] { byName.keys.sorted() }

    /// The provider `name` selects under `settings` (a tenant's); nil when unknown or not enabled.
    public func provider(named name: String, settings: AuthSettings) -> (any AuthProvider)? {
        guard let provider = byName[name] else { return nil }
        if let enabled = settings.enabledProviders, !enabled.contains(name) { return nil }
        return provider
    }

    /// The enabled providers as `GET /auth/client-config` lists them.
    public func clientConfig(settings: AuthSettings) -> [JSONValue] {
        names.compactMap { provider(named: $0, settings: settings) }.map { provider in
            var o = provider.clientConfig
            o["name"] = .string(provider.name)
            o["skipMfa"] = .bool(provider.skipMFA)
            return .object(o)
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d || $0 == 0x5f || $0 == 0x3a }
    }
}

/// A mistake in the providers' configuration, found at start.
public struct ProviderConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
