/// The behaviour knobs of the flows, one value built at start (per-request overrides come from
/// the `resolveConfig` hook).
public struct AuthSettings: Sendable {
    /// Where tokens travel: in JSON bodies and the Authorization header, or in httpOnly cookies.
    public enum TokenTransport: String, Sendable {
        case header
        case cookie
    }

    public var issuer = "authd"
    public var audience = "authd"
    public var accessTokenTTL: Duration = .seconds(15 * 60)
    /// A rotated refresh token presented again within this window gets the same answer.
    public var refreshGraceWindow: Duration = .seconds(10)
    /// How long a resolved tenant is trusted from memory (`TenantDirectory`) while the broadcast
    /// feed is in sync. Changes made through authd reach every process by broadcast (or, should
    /// it go astray, by the regular read of changed tenants), so this bounds only changes made in
    /// SQL that leave `updated_at` alone; with the feed out of sync an entry is trusted 5 s at
    /// most. Longer saves a registry read per request for tenants seen
    /// less often.
    public var tenantCacheTTL: Duration = .seconds(60)
    public var sessionIdleTimeout: Duration = .seconds(7 * 24 * 3600)
    public var sessionAbsoluteLifetime: Duration = .seconds(30 * 24 * 3600)
    public var maxSessionsPerUser = 10
    public var registrationEnabled = true
    /// When false, signup creates the account only: no session, empty tokens; log in next.
    public var autoLoginAfterSignup = true
    public var passwordPolicy = PasswordPolicy()
    public var accessTokenType: TokenTransport = .header
    /// Put `permissions` in access tokens (leave out when roles grant many).
    public var includePermissionsInToken = true
    /// A change of a user's roles (or of a role's permissions or active flag) by an admin ends
    /// the affected users' sessions at once; otherwise it takes effect at their next refresh.
    public var revokeSessionsOnRoleChange = false
    /// Every user must have MFA on: until they have, their requests reach only the MFA set-up
    /// routes (and /auth/me, logout, re-authentication) — 403 `MFA_SETUP_REQUIRED` elsewhere.
    /// A tenant setting (`mfaRequired`); needs MFA enabled for the deployment.
    public var mfaRequired = false
    /// The secret that creates the first platform admin (`POST /auth/admin/signup`) while none
    /// exists; nil: only `authd admin create` can.
    public var adminBootstrapSecret: String?
    /// How long a platform admin's console session lasts (absolute).
    public var adminSessionTTL: Duration = .seconds(8 * 3600)
    /// Cookies carry `Secure` (always in production).
    public var secureCookies = true
    /// Cookie-authenticated writes need an `x-csrf-token` bound to their session and an allowed
    /// `Origin` (when the browser sends one).
    public var csrfProtection = true
    /// Origins (`https://app.example.com`) allowed besides the request's own host.
    public var csrfAllowedOrigins: [String] = []
    /// Request bodies above this are refused with 413.
    public var maxBodyBytes = 64 * 1024
    /// Rate limits per address and per identifier, shared by every process.
    public var rateLimits = RateLimits()
    /// Changing MFA factors or making API keys needs the session's owner to have proved
    /// themselves (login, second factor, `POST /auth/reauthenticate`) within this (0: never asked).
    public var reauthenticationWindow: Duration = .seconds(15 * 60)
    /// How long an invitation's set-password token stays usable.
    public var inviteTTL: Duration = .seconds(72 * 3600)
    /// Multi-factor authentication.
    public var mfa = MFASettings()
    /// `POST /auth/passwordless/send` and `providerName: "passwordless"` logins.
    public var passwordlessEnabled = true
    /// One-time codes: length, alphabet, lifetime, attempts; reset-token lifetime.
    public var codes = OneTimeCodeSettings()
    /// Temporary lockout after repeated wrong passwords.
    public var lockout = LockoutPolicy()
    /// Proxies whose `X-Forwarded-For` names the client (`AUTH_TRUSTED_PROXIES`); none by default.
    public var trustedProxies = TrustedProxies()
    /// The login providers besides email/phone/passwordless (`AUTH_PROVIDERS`, embedders'
    /// `AuthProvider`s), selected by `providerName`.
    public var providers = ProviderRegistry.empty
    /// The names of `providers` enabled (a tenant's `providers` setting); nil: all of them.
    public var enabledProviders: Set<String>?
    /// A first login through a provider creates the account (nest-auth's
    /// `createUserIfNotExists`) when registration is open; false: only existing accounts (found by
    /// a linked identity or a provider-verified e-mail) may log in that way.
    public var providerSignup = true
    /// WebAuthn passkeys: the relying party (off without an RP ID).
    public var passkeys = PasskeySettings()

    public init() {}
}

extension Duration {
    /// Whole seconds (rounded down).
    public var wholeSeconds: Int { Int(components.seconds) }

    /// Fractional seconds as a Double.
    public var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
