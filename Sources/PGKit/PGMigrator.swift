/// Applies up-only migrations to one schema, recording them in `<schema>.schema_migrations`.
///
/// Each file runs once, in version order, with `search_path` set to the target schema only, so
/// files name their tables unqualified. A file whose checksum changed after it was applied makes
/// the run refuse with a clear error rather than silently diverge. Callers serialise runs with
/// the advisory lock `PGMigrator.lockKey` (`withMigrationLock`; a transaction migrating a schema
/// of its own takes it shared), so two processes migrating at once are safe.
public struct PGMigrator: Sendable {
    /// The advisory-lock key every migrating process takes ("authmigr" as ASCII).
    public static let lockKey: Int64 = 0x6175_7468_6D69_6772

    public let migrations: [PGMigration]

    /// SHA-256 over every file's version and checksum: equal exactly when two builds have the
    /// same files (a file merged with an older date than the newest changes it too).
    public let digest: String

    public init(migrations: [PGMigration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        digest = PGMigration.sha256Hex(Array(self.migrations.map { "\($0.version) \($0.checksum)\n" }.joined().utf8))
    }

    /// The newest version this migrator knows (nil when it has none).
    public var latestVersion: String? { migrations.last?.version }

    /// Runs `body` holding the global migration lock on `lease`'s session. The unlock is sent
    /// whatever happened, cancellation included (lease statements always run): a pooled
    /// connection must never keep the lock after its holder is gone.
    public static func withMigrationLock<T>(on lease: PGLease, _ body: () async throws -> T) async throws -> T {
        try await lease.query("SELECT pg_advisory_lock($1)", lockKey)
        do {
            let value = try await body()
            try await lease.query("SELECT pg_advisory_unlock($1)", lockKey)
            return value
        } catch {
            _ = try? await lease.query("SELECT pg_advisory_unlock($1)", lockKey)
            throw error
        }
    }

    /// Takes the migration lock shared for the rest of `tx` (waiting while a process migrates).
    /// A transaction that creates a schema takes it (or `tryShareLock`) first, before it changes
    /// anything: waiting on it while holding table locks could deadlock with a migration that
    /// needs those tables.
    public static func shareLock(in tx: PGTransaction) async throws {
        try await tx.query("SELECT pg_advisory_xact_lock_shared($1)", lockKey)
    }

    /// `shareLock`, unless a process is migrating: then false at once.
    public static func tryShareLock(in tx: PGTransaction) async throws -> Bool {
        try await tx.query("SELECT pg_try_advisory_xact_lock_shared($1) AS locked", lockKey).first?.decode("locked", as: Bool.self) ?? false
    }

    /// Brings `schema` up to date, each pending file in its own transaction on `lease`.
    /// Returns the migrations applied now. The caller holds the migration lock.
    @discardableResult
    public func migrate(schema: String, on lease: PGLease) async throws -> [PGMigration] {
        let quoted = try await lease.escapeIdentifier(schema)
        try await lease.execute(Self.bookkeepingDDL(quoted))
        let pending = try await pendingMigrations(schema: schema, on: lease)
        for migration in pending {
            try await PGTransaction.run(on: lease, PGTransactionOptions()) { tx in
                try await apply(migration, schema: quoted, in: tx)
            }
        }
        return pending
    }

    /// Applies every pending file inside the caller's transaction (used when creating a tenant:
    /// the registry row, the schema and its tables commit or vanish together). `schema` must be
    /// one no other transaction can migrate (new in `tx`, or claimed by it): the migration lock
    /// is taken shared for the rest of the transaction, so such runs go side by side but never
    /// beside a migrating process, which holds it exclusively.
    @discardableResult
    public func migrate(schema: String, in tx: PGTransaction) async throws -> [PGMigration] {
        try await Self.shareLock(in: tx)
        let quoted = try await tx.escapeIdentifier(schema)
        try await tx.execute(Self.bookkeepingDDL(quoted))
        let pending = try await pendingMigrations(schema: schema, on: tx)
        for migration in pending { try await apply(migration, schema: quoted, in: tx) }
        return pending
    }

    /// The files not yet applied to `schema`; throws if an applied file's checksum changed.
    /// A schema with no bookkeeping table has everything pending.
    public func pendingMigrations(schema: String, on db: some PGSession) async throws -> [PGMigration] {
        let exists = try await db.query(
            "SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL AS present", schema)
        guard try exists.first?.decode("present", as: Bool.self) == true else { return migrations }
        // The schema's name is in the text: never prepared (one statement per schema otherwise).
        let quoted = try await db.escapeIdentifier(schema)
        let rows = try await db.queryUnprepared("SELECT version, checksum FROM \(quoted).schema_migrations", [])
        var applied: [String: String] = [:]
        for row in rows { applied[try row.decode("version")] = try row.decode("checksum", as: String.self) }
        var pending: [PGMigration] = []
        for migration in migrations {
            guard let checksum = applied[migration.version] else {
                pending.append(migration)
                continue
            }
            if checksum != migration.checksum {
                throw PGError(
                    .migration,
                    "migration \(migration.name) was changed after it was applied to schema \(schema) "
                        + "(recorded checksum \(checksum.prefix(12))…, file now \(migration.checksum.prefix(12))…); "
                        + "migrations are up-only: add a new file instead")
            }
        }
        return pending
    }

    private func apply(_ migration: PGMigration, schema quoted: String, in tx: PGTransaction) async throws {
        try await tx.query("SELECT set_config('search_path', $1, true)", quoted)
        do {
            try await tx.execute(migration.sql)
        } catch var error as PGError {
            error.kind = .migration
            error.message = "migration \(migration.name) failed: \(error.message)"
            throw error
        }
        try await tx.queryUnprepared(
            "INSERT INTO \(quoted).schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            [migration.version, migration.name, migration.checksum])
    }

    static func bookkeepingDDL(_ quoted: String) -> String {
        """
        CREATE SCHEMA IF NOT EXISTS \(quoted);
        CREATE TABLE IF NOT EXISTS \(quoted).schema_migrations (
            version text PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    }
}
