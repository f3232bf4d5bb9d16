import ArgumentParser
import AuthCore
import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PGKit

/// What the operator subcommands build from the configuration: logger, a small pool, the
/// tenancy service. (`authd serve` builds the full `AuthRuntime` instead.)
struct Runtime: Sendable {
    let configuration: AuthdConfiguration
    let logger: Logger
    let pool: PGPool
    let db: AuthDatabase
    let registry: TenantRegistry

    init(configuration: AuthdConfiguration, poolSize: Int? = nil) throws {
        self.configuration = configuration
        logger = configuration.logger
        guard let root = MigrationCatalog.locateRoot(explicit: configuration.migrationsDirectory) else {
            throw ConfigurationProblems(problems: [
                "no migration files found: install the AuthMigrations resources next to authd, or set AUTH_MIGRATIONS_DIR"
            ])
        }
        let catalog = try MigrationCatalog.load(root: root)
        var database = configuration.database
        if let poolSize { database.size = poolSize }
        pool = PGPool(database, logger: logger)
        db = AuthDatabase(pool: pool)
        registry = TenantRegistry(db: db, migrations: catalog)
    }

    /// Loads the configuration and runs `body` with a runtime; see `reportingFailures`.
    static func run(needsKeyring: Bool = false, poolSize: Int? = 2, _ body: (Runtime) async throws -> Void) async throws {
        try await reportingFailures {
            let configuration = try await AuthdConfiguration.load(needsKeyring: needsKeyring)
            let runtime = try Runtime(configuration: configuration, poolSize: poolSize)
            do {
                try await body(runtime)
                await runtime.pool.shutdown()
            } catch {
                await runtime.pool.shutdown()
                throw error
            }
        }
    }

    /// Runs `body`, turning failures into a message on stderr and an exit code: 2 for what the
    /// caller can fix (a 4xx `AuthError`, bad configuration, a keyring missing a key), 1 otherwise.
    static func reportingFailures(_ body: () async throws -> Void) async throws {
        LoggingBootstrap.once()
        do {
            try await body()
        } catch let error as AuthError {
            Console.error("error: \(error.code): \(error.message)")
            throw ExitCode(error.status < 500 ? 2 : 1)
        } catch let error as ConfigurationProblems {
            Console.error("error: \(error)")
            throw ExitCode(2)
        } catch let error as PGError {
            Console.error("error: \(error)")
            throw ExitCode(1)
        } catch CryptoError.unknownKey(let id) {
            Console.error(
                "error: data in the database was sealed with keyring key '\(id)', which AUTH_SECRET_KEY does not contain. "
                    + "When rotating AUTH_SECRET_KEY, keep old keys after the new one: new:base64,\(id):base64")
            throw ExitCode(2)
        } catch is CryptoError {
            Console.error("error: a secret sealed in the database could not be opened with AUTH_SECRET_KEY (wrong key, or altered data)")
            throw ExitCode(2)
        } catch let error as AuthRuntimeError {
            Console.error("error: \(error)")
            throw ExitCode(2)
        }
    }
}
