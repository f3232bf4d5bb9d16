import AuthCore
import AuthCrypto
import Configuration
import Logging
import PGKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything authd reads from its environment, validated once at start.
///
/// Sources, highest priority first: environment variables (`AUTH_DATABASE_URL` …), then an
/// optional JSON file named by `AUTH_CONFIG_FILE_PATH` (keys nested: `{"auth":{"http":{"port":8080}}}`).
struct AuthdConfiguration: Sendable {
    enum Environment: String, Sendable {
        case development
        case production
    }

    /// The pool's settings (URL, size, prepared statements: 0 behind a transaction-mode pooler).
    var database: PGPool.Configuration
    /// LISTEN's own connection string (nil: the pool's); a transaction-mode pooler drops LISTEN.
    var listenURL: String?
    var httpHost: String
    var httpPort: Int
    /// `/metrics` on a port of its own (nil: on the main port; `authd listen`: not served).
    var metricsPort: Int?
    var environment: Environment
    /// Nil only for commands that never touch secrets (migrate, tenant …).
    var keyring: Keyring?
    /// True when no keyring was configured and a throwaway one was made (development only).
    var keyringIsEphemeral: Bool
    var migrationsDirectory: String?
    /// Spare tenant schemas `authd serve` keeps ready (`AUTH_TENANT_SPARES`, 0–100).
    var tenantSpares: Int
    var logLevel: String
    /// Flow behaviour (token lifetimes, sessions, password policy, transport).
    var settings: AuthSettings
    var argon2: PasswordHasher.Parameters
    /// Hashes waiting or running at most (`AUTH_ARGON2_QUEUE`; nil: 8 per hashing thread).
    var hashQueueLimit: Int?
    var sqlHooks: SQLHookBindings
    /// `AUTH_HTTP_HOOKS` with `AUTH_HTTP_HOOK_SECRET`; nil when none are bound.
    var httpHooks: HTTPHooks? = nil

    /// Reads and validates; throws `ConfigurationProblems` listing every problem at once.
    static func load(environment env: [String: String] = ProcessInfo.processInfo.environment, needsKeyring: Bool) async throws
        -> AuthdConfiguration
    {
        let envProvider = EnvironmentVariablesProvider(
            environmentVariables: env, secretsSpecifier: .specific(["AUTH_SECRET_KEY", "AUTH_DATABASE_URL"]))
        var providers: [any ConfigProvider] = [envProvider]
        if env["AUTH_CONFIG_FILE_PATH"] != nil {
            let bootstrap = ConfigReader(provider: envProvider)
            providers.append(try await FileProvider<JSONSnapshot>(config: bootstrap.scoped(to: "auth.config.file")))
        }
        let config = ConfigReader(providers: providers)
        var problems: [String] = []

        let databaseURL = config.string(forKey: "auth.database.url", isSecret: true) ?? ""
        if databaseURL.isEmpty {
            problems.append("AUTH_DATABASE_URL is not set (a libpq conninfo or postgresql:// URI)")
        }
        let listenURL = config.string(forKey: "auth.database.listen.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        let poolSize = config.int(forKey: "auth.database.pool.size", default: 8)
        if !(1...200).contains(poolSize) { problems.append("AUTH_DATABASE_POOL_SIZE must be 1–200 (got \(poolSize))") }
        let preparedStatements = config.int(forKey: "auth.database.prepared.statements", default: 1024)
        if !(0...10_000).contains(preparedStatements) {
            problems.append("AUTH_DATABASE_PREPARED_STATEMENTS must be 0–10000 (got \(preparedStatements))")
        }
        let homeWait = config.int(forKey: "auth.database.home.wait.ms", default: 20)
        if !(0...1000).contains(homeWait) { problems.append("AUTH_DATABASE_HOME_WAIT_MS must be 0–1000 (got \(homeWait))") }
        let maxAge = config.int(forKey: "auth.database.connection.max.age.seconds", default: 3600)
        if maxAge != 0, !(60...86_400).contains(maxAge) {
            problems.append("AUTH_DATABASE_CONNECTION_MAX_AGE_SECONDS must be 0 (never) or 60–86400 (got \(maxAge))")
        }
        let host = config.string(forKey: "auth.http.host", default: "127.0.0.1")
        let port = config.int(forKey: "auth.http.port", default: 8080)
        if !(0...65535).contains(port) { problems.append("AUTH_HTTP_PORT must be 0–65535 (got \(port))") }
        let metricsPort = config.int(forKey: "auth.metrics.port")
        if let metricsPort, !(1...65535).contains(metricsPort) || metricsPort == port {
            problems.append("AUTH_METRICS_PORT must be 1–65535 and differ from AUTH_HTTP_PORT (got \(metricsPort))")
        }
        let envText = config.string(forKey: "auth.env", default: "production")
        let environment = Environment(rawValue: envText)
        if environment == nil { problems.append("AUTH_ENV must be development or production (got \(envText))") }

        var keyring: Keyring?
        var ephemeral = false
        let secret = config.string(forKey: "auth.secret.key", isSecret: true) ?? ""
        if !needsKeyring, !secret.isEmpty {
            // Optional here (e.g. `authd listen` opening events' one-time secrets for a webhook).
            do { keyring = try Keyring(parsing: secret) } catch let CryptoError.invalidKeyring(reason) {
                problems.append("AUTH_SECRET_KEY is invalid: \(reason)")
            }
        } else if needsKeyring {
            if secret.isEmpty {
                if environment == .development {
                    keyring = try Keyring.ephemeral()
                    ephemeral = true
                } else {
                    problems.append(
                        "AUTH_SECRET_KEY is not set: production needs a keyring `id:base64` of at least 32 random bytes, e.g. `main:$(head -c 32 /dev/urandom | base64 -w0)`")
                }
            } else {
                do { keyring = try Keyring(parsing: secret) } catch let CryptoError.invalidKeyring(reason) {
                    problems.append("AUTH_SECRET_KEY is invalid: \(reason)")
                }
            }
        }
        var settings = AuthSettings()
        func seconds(_ key: String, _ current: Duration, _ range: ClosedRange<Int>) -> Duration {
            let value = config.int(forKey: ConfigKey(key), default: current.wholeSeconds)
            if !range.contains(value) {
                problems.append("\(envName(key)) must be \(range.lowerBound)–\(range.upperBound) seconds (got \(value))")
            }
            return .seconds(value)
        }
        settings.issuer = config.string(forKey: "auth.token.issuer", default: settings.issuer)
        settings.audience = config.string(forKey: "auth.token.audience", default: settings.audience)
        settings.accessTokenTTL = seconds("auth.access.token.ttl", settings.accessTokenTTL, 30...86_400)
        settings.refreshGraceWindow = seconds("auth.refresh.grace.seconds", settings.refreshGraceWindow, 0...300)
        settings.tenantCacheTTL = seconds("auth.tenant.cache.seconds", settings.tenantCacheTTL, 0...3600)
        settings.sessionIdleTimeout = seconds("auth.session.idle.timeout", settings.sessionIdleTimeout, 60...31_536_000)
        settings.sessionAbsoluteLifetime = seconds("auth.session.lifetime", settings.sessionAbsoluteLifetime, 60...31_536_000)
        settings.maxSessionsPerUser = config.int(forKey: "auth.max.sessions.per.user", default: settings.maxSessionsPerUser)
        if !(1...1000).contains(settings.maxSessionsPerUser) { problems.append("AUTH_MAX_SESSIONS_PER_USER must be 1–1000") }
        settings.registrationEnabled = config.bool(forKey: "auth.registration.enabled", default: true)
        settings.autoLoginAfterSignup = config.bool(forKey: "auth.auto.login.after.signup", default: true)
        settings.passwordPolicy.minLength = config.int(forKey: "auth.password.min.length", default: 8)
        if !(8...64).contains(settings.passwordPolicy.minLength) { problems.append("AUTH_PASSWORD_MIN_LENGTH must be 8–64") }
        let transport = config.string(forKey: "auth.access.token.type", default: "header")
        if let t = AuthSettings.TokenTransport(rawValue: transport) { settings.accessTokenType = t } else {
            problems.append("AUTH_ACCESS_TOKEN_TYPE must be header or cookie (got \(transport))")
        }
        settings.includePermissionsInToken = config.bool(forKey: "auth.token.include.permissions", default: true)
        settings.revokeSessionsOnRoleChange = config.bool(forKey: "auth.revoke.sessions.on.role.change", default: false)
        settings.secureCookies = environment != .development
        settings.csrfProtection = config.bool(forKey: "auth.csrf.protection", default: true)
        settings.csrfAllowedOrigins = config.string(forKey: "auth.csrf.allowed.origins", default: "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        for origin in settings.csrfAllowedOrigins where !(origin.hasPrefix("https://") || origin.hasPrefix("http://")) || origin.hasSuffix("/") {
            problems.append("AUTH_CSRF_ALLOWED_ORIGINS entries must look like https://host[:port] (got \(origin))")
        }

        readAbuseControls(config, environment: environment, into: &settings, problems: &problems)
        readCodes(config, into: &settings, problems: &problems)
        let hashQueueLimit = config.int(forKey: "auth.argon2.queue")
        if let hashQueueLimit, !(1...100_000).contains(hashQueueLimit) { problems.append("AUTH_ARGON2_QUEUE must be 1–100000") }

        let argon2 = PasswordHasher.Parameters(
            memoryKiB: UInt32(clamping: config.int(forKey: "auth.argon2.memory.kib", default: 19_456)),
            iterations: UInt32(clamping: config.int(forKey: "auth.argon2.iterations", default: 2)),
            parallelism: UInt32(clamping: config.int(forKey: "auth.argon2.parallelism", default: 1)))
        if argon2.memoryKiB < 8 || argon2.iterations < 1 || argon2.parallelism < 1 || argon2.parallelism > 16 {
            problems.append("AUTH_ARGON2_* parameters are out of range (memory ≥ 8 KiB, iterations ≥ 1, parallelism 1–16)")
        } else if environment == .production, !argon2.meetsOWASPMinimum {
            problems.append(
                "AUTH_ARGON2_* are below OWASP's minimum for argon2id (m=19456 KiB with t=2, or m=47104/t=1, 12288/3, 9216/4, 7168/5): "
                    + "weaker settings are allowed only with AUTH_ENV=development")
        }

        var sqlHooks = SQLHookBindings()
        let hookTimeout = config.int(forKey: "auth.sql.hook.timeout.ms", default: 2000)
        if !(1...60_000).contains(hookTimeout) {
            problems.append("AUTH_SQL_HOOK_TIMEOUT_MS must be 1–60000 (got \(hookTimeout))")
        } else if let text = config.string(forKey: "auth.sql.hooks"), !text.isEmpty {
            do {
                sqlHooks = try SQLHookBindings.parse(try JSONValue.parse(text).objectValue, timeout: .milliseconds(hookTimeout))
            } catch {
                problems.append("AUTH_SQL_HOOKS is invalid: \(error)")
            }
        }
        readProviders(config, into: &settings, problems: &problems)
        var httpHooks: HTTPHooks?
        if let text = config.string(forKey: "auth.http.hooks"), !text.isEmpty {
            let secretText = config.string(forKey: "auth.http.hook.secret", isSecret: true) ?? ""
            if let secret = StandardWebhooks.Secret(secretText) {
                do {
                    guard case .object(let object) = try JSONValue.parse(text) else { throw HTTPHookConfigurationError("must be a JSON object") }
                    httpHooks = try HTTPHooks.parse(object, secret: secret)
                } catch {
                    problems.append("AUTH_HTTP_HOOKS is invalid: \(error)")
                }
            } else {
                problems.append("AUTH_HTTP_HOOKS needs AUTH_HTTP_HOOK_SECRET (whsec_ + base64 of at least 24 random bytes) to sign its calls")
            }
        }
        let tenantSpares = config.int(forKey: "auth.tenant.spares", default: 2)
        if !(0...100).contains(tenantSpares) { problems.append("AUTH_TENANT_SPARES must be 0–100 (got \(tenantSpares))") }
        guard problems.isEmpty, let environment else { throw ConfigurationProblems(problems: problems) }
        var configuration = AuthdConfiguration(
            database: PGPool.Configuration(
                conninfo: databaseURL, size: poolSize, preparedStatements: preparedStatements, homeWait: .milliseconds(homeWait),
                maxConnectionAge: maxAge == 0 ? nil : .seconds(maxAge)),
            listenURL: listenURL, httpHost: host, httpPort: port, metricsPort: metricsPort, environment: environment,
            keyring: keyring, keyringIsEphemeral: ephemeral,
            migrationsDirectory: config.string(forKey: "auth.migrations.dir"), tenantSpares: tenantSpares,
            logLevel: config.string(forKey: "auth.log.level", default: "info"),
            settings: settings, argon2: argon2, hashQueueLimit: hashQueueLimit, sqlHooks: sqlHooks)
        configuration.httpHooks = httpHooks
        return configuration
    }

    /// Login providers: `AUTH_PROVIDERS` (a JSON object keyed by provider name, see README) or
    /// `AUTH_PROVIDERS_FILE` (the same in a file, for secrets kept out of the environment);
    /// `AUTH_PROVIDER_SIGNUP` (a first provider login creates the account; default true).
    private static func readProviders(_ config: ConfigReader, into settings: inout AuthSettings, problems: inout [String]) {
        // Passkeys: AUTH_PASSKEY_RP_ID (off when unset), AUTH_PASSKEY_RP_NAME, AUTH_PASSKEY_ORIGINS.
        if let rpID = config.string(forKey: "auth.passkey.rp.id"), !rpID.isEmpty {
            if PasskeySettings.isValidRPID(rpID) { settings.passkeys.rpID = rpID } else {
                problems.append("AUTH_PASSKEY_RP_ID must be a lower-case host name such as example.com (got \(rpID))")
            }
        }
        settings.passkeys.rpName = config.string(forKey: "auth.passkey.rp.name", default: settings.passkeys.rpName)
        let origins = config.string(forKey: "auth.passkey.origins", default: "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        if let bad = origins.first(where: { !PasskeySettings.isValidOrigin($0) }) {
            problems.append("AUTH_PASSKEY_ORIGINS must list https://host[:port] origins (http only for localhost); got \(bad)")
        }
        settings.passkeys.origins = origins
        if let rpID = settings.passkeys.rpID, let bad = origins.first(where: { PasskeySettings.isValidOrigin($0) && !PasskeySettings.origin($0, fits: rpID) }) {
            problems.append("AUTH_PASSKEY_ORIGINS: \(bad) is not on AUTH_PASSKEY_RP_ID (\(rpID)) or a subdomain of it")
        }
        settings.providerSignup = config.bool(forKey: "auth.provider.signup", default: settings.providerSignup)
        var text = config.string(forKey: "auth.providers", isSecret: true)
        if let path = config.string(forKey: "auth.providers.file"), !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append("AUTH_PROVIDERS_FILE: cannot read \(path)")
                return
            }
            text = String(decoding: data, as: UTF8.self)
        }
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        do {
            guard case .object(let object) = try JSONValue.parse(text) else {
                problems.append("AUTH_PROVIDERS must be a JSON object keyed by provider name")
                return
            }
            settings.providers = try ProviderRegistry(try ProviderCatalog.providers(from: object))
        } catch let error as ProviderConfigurationError {
            problems.append("AUTH_PROVIDERS: \(error)")
        } catch {
            problems.append("AUTH_PROVIDERS is not valid JSON")
        }
    }

    /// One-time codes and passwordless login: `AUTH_OTP_LENGTH` (6–12), `AUTH_OTP_FORMAT`
    /// (numeric | alphanumeric), `AUTH_OTP_TTL_SECONDS` (60–600: requirement 21's ten minutes at
    /// most), `AUTH_OTP_MAX_ATTEMPTS` (1–10), `AUTH_PASSWORD_RESET_TOKEN_TTL` (600–3600 s:
    /// requirement 18), `AUTH_PASSWORDLESS_ENABLED`.
    private static func readCodes(_ config: ConfigReader, into settings: inout AuthSettings, problems: inout [String]) {
        var codes = settings.codes
        codes.length = config.int(forKey: "auth.otp.length", default: codes.length)
        if !(6...12).contains(codes.length) { problems.append("AUTH_OTP_LENGTH must be 6–12 (six digits are 20 bits, the least allowed)") }
        let format = config.string(forKey: "auth.otp.format", default: codes.alphabet.rawValue)
        if let alphabet = OneTimeCodeAlphabet(rawValue: format) { codes.alphabet = alphabet } else {
            problems.append("AUTH_OTP_FORMAT must be numeric or alphanumeric (got \(format))")
        }
        let ttl = config.int(forKey: "auth.otp.ttl.seconds", default: codes.ttl.wholeSeconds)
        if !(60...600).contains(ttl) { problems.append("AUTH_OTP_TTL_SECONDS must be 60–600 (codes live ten minutes at most)") }
        codes.ttl = .seconds(ttl)
        codes.maxAttempts = config.int(forKey: "auth.otp.max.attempts", default: codes.maxAttempts)
        if !(1...10).contains(codes.maxAttempts) { problems.append("AUTH_OTP_MAX_ATTEMPTS must be 1–10") }
        let reset = config.int(forKey: "auth.password.reset.token.ttl", default: codes.resetTokenTTL.wholeSeconds)
        if !(600...3600).contains(reset) { problems.append("AUTH_PASSWORD_RESET_TOKEN_TTL must be 600–3600 seconds") }
        codes.resetTokenTTL = .seconds(reset)
        settings.codes = codes
        settings.passwordlessEnabled = config.bool(forKey: "auth.passwordless.enabled", default: settings.passwordlessEnabled)

        // MFA: AUTH_MFA_ENABLED, AUTH_MFA_METHODS (totp,email,sms), AUTH_MFA_ALLOW_TOGGLE,
        // AUTH_MFA_ISSUER, AUTH_MFA_TRUSTED_DEVICE_DAYS (0–365).
        settings.mfa.enabled = config.bool(forKey: "auth.mfa.enabled", default: settings.mfa.enabled)
        settings.mfa.allowUserToggle = config.bool(forKey: "auth.mfa.allow.toggle", default: settings.mfa.allowUserToggle)
        settings.mfa.issuer = config.string(forKey: "auth.mfa.issuer", default: settings.mfa.issuer)
        let methods = config.string(forKey: "auth.mfa.methods", default: "totp,email,sms").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = methods.compactMap(MFAMethod.init(rawValue:))
        if parsed.count != methods.count || parsed.isEmpty { problems.append("AUTH_MFA_METHODS must list totp, email and/or sms") }
        settings.mfa.methods = Set(parsed)
        let days = config.int(forKey: "auth.mfa.trusted.device.days", default: 30)
        if !(0...365).contains(days) { problems.append("AUTH_MFA_TRUSTED_DEVICE_DAYS must be 0–365") }
        settings.mfa.trustedDeviceTTL = .seconds(days * 86_400)
        let reauth = config.int(forKey: "auth.reauth.window.seconds", default: settings.reauthenticationWindow.wholeSeconds)
        if !(0...86_400).contains(reauth) { problems.append("AUTH_REAUTH_WINDOW_SECONDS must be 0–86400 (0: never asked)") }
        settings.reauthenticationWindow = .seconds(reauth)
        let inviteHours = config.int(forKey: "auth.invite.ttl.hours", default: 72)
        if !(1...720).contains(inviteHours) { problems.append("AUTH_INVITE_TTL_HOURS must be 1–720") }
        settings.inviteTTL = .seconds(inviteHours * 3600)
    }

    /// Rate limits, lockout and trusted proxies: `AUTH_RATE_LIMIT_<ACTION>_PER_IP` and
    /// `…_PER_IDENTIFIER` as `N/period` (`60/1m`), `AUTH_PASSWORD_CHECKS_PER_ACCOUNT_HOUR` (at
    /// most 100), `AUTH_RATE_LIMITS=off` (development only), `AUTH_LOCKOUT_THRESHOLD` (0: off),
    /// `AUTH_LOCKOUT_SECONDS`, `AUTH_LOCKOUT_MAX_SECONDS`, `AUTH_TRUSTED_PROXIES`.
    private static func readAbuseControls(
        _ config: ConfigReader, environment: Environment?, into settings: inout AuthSettings, problems: inout [String]
    ) {
        var limits = settings.rateLimits
        let switchText = config.string(forKey: "auth.rate.limits", default: "on")
        switch switchText {
        case "on": limits.enabled = true
        case "off" where environment == .development: limits.enabled = false
        case "off": problems.append("AUTH_RATE_LIMITS=off is allowed only with AUTH_ENV=development")
        default: problems.append("AUTH_RATE_LIMITS must be on or off (got \(switchText))")
        }
        for action in RateLimits.Action.allCases {
            let name = action.rawValue.replacingOccurrences(of: "_", with: ".")
            for (scope, isIP) in [("ip", true), ("identifier", false)] where isIP || action != .login {
                let key = "auth.rate.limit.\(name).per.\(scope)"
                guard let text = config.string(forKey: ConfigKey(key)) else { continue }
                guard let rule = RateLimitRule(parsing: text) else {
                    problems.append("\(envName(key)) must look like N/period, e.g. 60/1m, 5/10m, 100/1h (got \(text))")
                    continue
                }
                if isIP { limits.perIP[action] = rule } else { limits.perIdentifier[action] = rule }
            }
        }
        limits.passwordChecksPerAccountPerHour = config.int(forKey: "auth.password.checks.per.account.hour", default: 100)
        if !(2...100).contains(limits.passwordChecksPerAccountPerHour) {
            problems.append("AUTH_PASSWORD_CHECKS_PER_ACCOUNT_HOUR must be 2–100 (NIST SP 800-63B: at most 100 failures per account)")
        }
        settings.rateLimits = limits

        settings.lockout.threshold = config.int(forKey: "auth.lockout.threshold", default: settings.lockout.threshold)
        if !(0...100).contains(settings.lockout.threshold) { problems.append("AUTH_LOCKOUT_THRESHOLD must be 0–100 (0: no lockout)") }
        let base = config.int(forKey: "auth.lockout.seconds", default: settings.lockout.base.wholeSeconds)
        let maximum = config.int(forKey: "auth.lockout.max.seconds", default: settings.lockout.maximum.wholeSeconds)
        if !(1...86_400).contains(base) || !(base...(30 * 86_400)).contains(maximum) {
            problems.append("AUTH_LOCKOUT_SECONDS must be 1–86400 and AUTH_LOCKOUT_MAX_SECONDS between it and 2592000")
        }
        settings.lockout.base = .seconds(base)
        settings.lockout.maximum = .seconds(maximum)

        if let secret = config.string(forKey: "auth.admin.secret", isSecret: true), !secret.isEmpty {
            if secret.utf8.count < 24 { problems.append("AUTH_ADMIN_SECRET must be at least 24 characters (it creates the first platform admin)") }
            settings.adminBootstrapSecret = secret
        }
        let adminHours = config.int(forKey: "auth.admin.session.hours", default: 8)
        if !(1...168).contains(adminHours) { problems.append("AUTH_ADMIN_SESSION_HOURS must be 1–168") }
        settings.adminSessionTTL = .seconds(adminHours * 3600)

        do {
            settings.trustedProxies = try TrustedProxies(parsing: config.string(forKey: "auth.trusted.proxies", default: ""))
        } catch {
            problems.append("AUTH_TRUSTED_PROXIES must list addresses or CIDR ranges (got \(error.entry))")
        }
    }
}

extension AuthdConfiguration {
    /// The logger every part of the process uses (swift-log; level from AUTH_LOG_LEVEL).
    var logger: Logger {
        var logger = Logger(label: "authd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }

    /// What `AuthRuntime` is built from.
    func runtime(keyring: Keyring, hooks: AuthHooks) -> AuthRuntime.Configuration {
        AuthRuntime.Configuration(
            database: database, listenConninfo: listenURL, settings: settings, keyring: keyring, argon2: argon2,
            hashQueueLimit: hashQueueLimit, hooks: httpHooks?.installed(into: hooks) ?? hooks,
            sqlHooks: sqlHooks, migrationsRoot: migrationsDirectory, tenantSpares: tenantSpares, logger: logger)
    }
}

/// `auth.access.token.ttl` → `AUTH_ACCESS_TOKEN_TTL`, for messages.
private func envName(_ key: String) -> String {
    key.uppercased().replacingOccurrences(of: ".", with: "_")
}

/// Start-up refused: every configuration problem found, each on its own line.
struct ConfigurationProblems: Error, CustomStringConvertible {
    var problems: [String]
    var description: String {
        "configuration invalid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
