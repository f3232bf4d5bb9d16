/// A second factor's kind.
public enum MFAMethod: String, Sendable, CaseIterable, Comparable {
    case totp
    case email
    case sms

    /// The order methods are offered in: an authenticator app first.
    public static func < (a: MFAMethod, b: MFAMethod) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Multi-factor authentication for the deployment (nest-auth's `mfa` options).
public struct MFASettings: Sendable, Equatable {
    /// Off: no login asks for a second factor and the MFA routes answer `MFA_NOT_ENABLED`.
    public var enabled = true
    /// The methods users may use (e-mail and SMS count only for a verified address).
    public var methods: Set<MFAMethod> = [.totp, .email, .sms]
    /// Users may turn MFA on and off themselves.
    public var allowUserToggle = true
    /// The issuer authenticator apps show.
    public var issuer = "authd"
    /// How long a trusted device skips MFA.
    public var trustedDeviceTTL: Duration = .seconds(30 * 24 * 3600)
    /// Recovery codes per set (≥ 10).
    public var recoveryCodeCount = 10

    public init() {}
}
