/// Where passkeys work: the WebAuthn relying party (RP ID, name, allowed origins) of the
/// deployment, or of a tenant (`passkeyRpId`, `passkeyOrigins`). Without an RP ID, passkeys are
/// off (400 `PASSKEYS_NOT_CONFIGURED`).
public struct PasskeySettings: Sendable, Equatable {
    /// A registrable domain the origins belong to (`example.com` for `https://app.example.com`).
    public var rpID: String?
    /// The name authenticators show.
    public var rpName = "authd"
    /// Origins ceremonies may come from; empty: `https://<rpID>` only.
    public var origins: [String] = []
    /// How long a ceremony's challenge may be answered.
    public var challengeTTL: Duration = .seconds(300)

    public init() {}

    /// The relying party, when configured. User verification is always required: a passkey
    /// login then satisfies MFA.
    public var relyingParty: WebAuthnRelyingParty? {
        guard let rpID else { return nil }
        return WebAuthnRelyingParty(id: rpID, name: rpName, origins: origins.isEmpty ? ["https://\(rpID)"] : origins)
    }

    /// An RP ID: a lower-case host name (no scheme, port or path).
    public static func isValidRPID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && !text.hasPrefix(".") && !text.hasSuffix(".")
            && text.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d || $0 == 0x2e }
    }

    /// An origin: `https://host[:port]` (or `http://localhost[:port]` for development).
    public static func isValidOrigin(_ text: String) -> Bool { host(of: text) != nil }

    /// An origin's host, when the origin is well formed.
    static func host(of origin: String) -> String? {
        let secure = origin.hasPrefix("https://")
        guard secure || origin.hasPrefix("http://") else { return nil }
        let parts = origin.dropFirst(secure ? 8 : 7).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first.map(String.init), isValidRPID(host), secure || host == "localhost" else { return nil }
        if parts.count == 2, !(Int(parts[1]).map { (1...65535).contains($0) } ?? false) { return nil }
        return host
    }

    /// Whether `origin` may serve ceremonies for `rpID`: its host is the RP ID or a subdomain.
    public static func origin(_ origin: String, fits rpID: String) -> Bool {
        guard let host = host(of: origin) else { return false }
        return host == rpID || host.hasSuffix("." + rpID)
    }
}
