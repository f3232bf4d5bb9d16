/// What a tenant may set for itself (`auth.tenants.settings`, issue 18 item 6), over the
/// deployment's `AuthSettings`: each field nil keeps the deployment's value. Validated when
/// written (admin API, `authd tenant set`); read with the tenant, so a change reaches every
/// process within the tenant cache's TTL.
public struct TenantSettings: Sendable, Equatable {
    public var registrationEnabled: Bool?
    public var autoLoginAfterSignup: Bool?
    /// 8–64 (never below NIST's 8).
    public var passwordMinLength: Int?
    /// Seconds, 300 s – 90 days.
    public var sessionIdleTimeout: Int?
    /// Seconds, 300 s – 365 days; not shorter than the idle timeout.
    public var sessionLifetime: Int?
    /// Failed logins before a lockout, 0–100 (0: none).
    public var lockoutThreshold: Int?
    /// Every user of the tenant must turn MFA on (`AuthSettings.mfaRequired`).
    public var mfaRequired: Bool?
    /// The deployment's login providers this tenant offers (nil: all of them).
    public var providers: [String]?
    /// A first login through a provider creates the account (`AuthSettings.providerSignup`).
    public var providerSignup: Bool?
    /// The tenant's own WebAuthn relying party (its login pages live on its own domain).
    public var passkeyRpId: String?
    public var passkeyOrigins: [String]?

    public init() {}

    static let keys: Set<String> = [
        "registrationEnabled", "autoLoginAfterSignup", "passwordMinLength", "sessionIdleTimeout", "sessionLifetime", "lockoutThreshold",
        "mfaRequired", "providers", "providerSignup", "passkeyRpId", "passkeyOrigins",
    ]

    /// Parses and checks settings; 400 `INVALID_INPUT` naming the first bad or unknown key.
    /// A key set to null goes back to the deployment's value.
    public init(validating object: JSONObject) throws {
        for key in object.keys where !Self.keys.contains(key) {
            throw AuthError.invalidInput("settings.\(key)", "is not a tenant setting (\(Self.keys.sorted().joined(separator: ", ")))")
        }
        func bool(_ key: String) throws -> Bool? {
            guard let value = object[key], value != .null else { return nil }
            guard case .bool(let b) = value else { throw AuthError.invalidInput("settings.\(key)", "must be true or false") }
            return b
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = object[key], value != .null else { return nil }
            guard case .int(let n) = value, range.contains(n) else {
                throw AuthError.invalidInput("settings.\(key)", "must be a whole number in \(range.lowerBound)…\(range.upperBound)")
            }
            return n
        }
        registrationEnabled = try bool("registrationEnabled")
        autoLoginAfterSignup = try bool("autoLoginAfterSignup")
        passwordMinLength = try int("passwordMinLength", 8...64)
        sessionIdleTimeout = try int("sessionIdleTimeout", 300...(90 * 86_400))
        sessionLifetime = try int("sessionLifetime", 300...(365 * 86_400))
        lockoutThreshold = try int("lockoutThreshold", 0...100)
        mfaRequired = try bool("mfaRequired")
        providerSignup = try bool("providerSignup")
        if let value = object["providers"], value != .null {
            guard let list = value.arrayValue, list.count <= 64,
                  let names = Optional(list.compactMap(\.stringValue)), names.count == list.count,
                  names.allSatisfy(ProviderRegistry.isValidName)
            else { throw AuthError.invalidInput("settings.providers", "must be a list of provider names") }
            providers = Array(Set(names)).sorted()
        }
        if let value = object["passkeyRpId"], value != .null {
            guard let id = value.stringValue, PasskeySettings.isValidRPID(id) else {
                throw AuthError.invalidInput("settings.passkeyRpId", "must be a lower-case host name such as example.com")
            }
            passkeyRpId = id
        }
        if let value = object["passkeyOrigins"], value != .null {
            guard let list = value.arrayValue, (1...16).contains(list.count),
                  let origins = Optional(list.compactMap(\.stringValue)), origins.count == list.count,
                  origins.allSatisfy(PasskeySettings.isValidOrigin)
            else { throw AuthError.invalidInput("settings.passkeyOrigins", "must list 1–16 origins such as https://login.example.com") }
            passkeyOrigins = origins
        }
        // A tenant's origins belong to its own RP ID (the deployment's origins go with the
        // deployment's RP ID), and must be under it.
        if let origins = passkeyOrigins {
            guard let rpID = passkeyRpId else {
                throw AuthError.invalidInput("settings.passkeyOrigins", "needs settings.passkeyRpId, the domain they belong to")
            }
            if let bad = origins.first(where: { !PasskeySettings.origin($0, fits: rpID) }) {
                throw AuthError.invalidInput("settings.passkeyOrigins", "\(bad) is not on \(rpID) or a subdomain of it")
            }
        }
        if let idle = sessionIdleTimeout, let life = sessionLifetime, life < idle {
            throw AuthError.invalidInput("settings.sessionLifetime", "must not be shorter than sessionIdleTimeout")
        }
    }

    /// The stored form (only what is set).
    public var json: JSONObject {
        var o: JSONObject = [:]
        if let registrationEnabled { o["registrationEnabled"] = .bool(registrationEnabled) }
        if let autoLoginAfterSignup { o["autoLoginAfterSignup"] = .bool(autoLoginAfterSignup) }
        if let passwordMinLength { o["passwordMinLength"] = .int(passwordMinLength) }
        if let sessionIdleTimeout { o["sessionIdleTimeout"] = .int(sessionIdleTimeout) }
        if let sessionLifetime { o["sessionLifetime"] = .int(sessionLifetime) }
        if let lockoutThreshold { o["lockoutThreshold"] = .int(lockoutThreshold) }
        if let mfaRequired { o["mfaRequired"] = .bool(mfaRequired) }
        if let providers { o["providers"] = .array(providers.map(JSONValue.string)) }
        if let providerSignup { o["providerSignup"] = .bool(providerSignup) }
        if let passkeyRpId { o["passkeyRpId"] = .string(passkeyRpId) }
        if let passkeyOrigins { o["passkeyOrigins"] = .array(passkeyOrigins.map(JSONValue.string)) }
        return o
    }

    /// The deployment's settings with this tenant's choices applied.
    public func applied(to base: AuthSettings) -> AuthSettings {
        var s = base
        if let registrationEnabled { s.registrationEnabled = registrationEnabled }
        if let autoLoginAfterSignup { s.autoLoginAfterSignup = autoLoginAfterSignup }
        if let passwordMinLength { s.passwordPolicy.minLength = passwordMinLength }
        if let sessionIdleTimeout { s.sessionIdleTimeout = .seconds(sessionIdleTimeout) }
        if let sessionLifetime { s.sessionAbsoluteLifetime = .seconds(sessionLifetime) }
        if s.sessionAbsoluteLifetime < s.sessionIdleTimeout { s.sessionIdleTimeout = s.sessionAbsoluteLifetime }
        if let lockoutThreshold { s.lockout.threshold = lockoutThreshold }
        if let mfaRequired { s.mfaRequired = mfaRequired && s.mfa.enabled }
        if let providers { s.enabledProviders = Set(providers).intersection(s.enabledProviders ?? Set(s.providers.names)) }
        if let providerSignup { s.providerSignup = providerSignup }
        if let passkeyRpId {
            // A tenant's own RP ID comes with its own origins (the deployment's belong to its RP ID).
            s.passkeys.rpID = passkeyRpId
            s.passkeys.origins = passkeyOrigins ?? []
        }
        return s
    }
}
