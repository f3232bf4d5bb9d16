import AuthCrypto
import Configuration
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

    var databaseURL: String
    var poolSize: Int
    var httpHost: String
    var httpPort: Int
    var environment: Environment
    /// Nil only for commands that never touch secrets (migrate, tenant …).
    var keyring: Keyring?
    /// True when no keyring was configured and a throwaway one was made (development only).
    var keyringIsEphemeral: Bool
    var migrationsDirectory: String?
    var logLevel: String

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
        let poolSize = config.int(forKey: "auth.database.pool.size", default: 8)
        if !(1...200).contains(poolSize) { problems.append("AUTH_DATABASE_POOL_SIZE must be 1–200 (got \(poolSize))") }
        let host = config.string(forKey: "auth.http.host", default: "127.0.0.1")
        let port = config.int(forKey: "auth.http.port", default: 8080)
        if !(0...65535).contains(port) { problems.append("AUTH_HTTP_PORT must be 0–65535 (got \(port))") }
        let envName = config.string(forKey: "auth.env", default: "production")
        let environment = Environment(rawValue: envName)
        if environment == nil { problems.append("AUTH_ENV must be development or production (got \(envName))") }

        var keyring: Keyring?
        var ephemeral = false
        if needsKeyring {
            let secret = config.string(forKey: "auth.secret.key", isSecret: true) ?? ""
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
        guard problems.isEmpty, let environment else { throw ConfigurationProblems(problems: problems) }
        return AuthdConfiguration(
            databaseURL: databaseURL, poolSize: poolSize, httpHost: host, httpPort: port, environment: environment,
            keyring: keyring, keyringIsEphemeral: ephemeral,
            migrationsDirectory: config.string(forKey: "auth.migrations.dir"),
            logLevel: config.string(forKey: "auth.log.level", default: "info"))
    }
}

/// Start-up refused: every configuration problem found, each on its own line.
struct ConfigurationProblems: Error, CustomStringConvertible {
    var problems: [String]
    var description: String {
        "configuration invalid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
