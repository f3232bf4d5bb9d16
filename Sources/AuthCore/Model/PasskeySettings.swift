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
    public static func isValidOrigin(_ text: String) -> Bool {
        let rest: Substring
        if text.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if text.hasPrefix("http://localhost") {
            rest = text.dropFirst(7)
        } else {
            return false
        }
        let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, isValidRPID(String(host)) else { return false }
        if parts.count == 2 { return Int(parts[1]).map { (1...65535).contains($0) } ?? false }
        return true
    }
}
