#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The tenancy service: the registry `auth.tenants` and the schema that belongs to each tenant.
///
/// Creating a tenant is one transaction (the registry row, in a claimed spare schema or a new
/// one, and the tenant migrations that schema lacks);
/// deleting one drops its schema with everything in it, sessions included, and tells every
/// running authd at COMMIT.
public struct TenantRegistry: Sendable {
    public let db: AuthDatabase
    public let migrations: MigrationCatalog
    /// How long a create waits while `authd migrate` runs before answering 503 with
    /// `Retry-After` (a migration over many tenants takes minutes; each waiting create holds a
    /// pool connection).
    public var migrationWait: Duration = .seconds(5)
    let store = TenantStore()
    let spares = TenantSpareStore()
    /// This build's files, which the spares it makes and claims carry.
    let files: TenantSpareStore.Files

    public init(db: AuthDatabase, migrations: MigrationCatalog) {
        self.db = db
        self.migrations = migrations
        files = TenantSpareStore.Files(
            digest: migrations.global.digest + migrations.tenant.digest,
            global: migrations.global.latestVersion ?? "", tenant: migrations.tenant.latestVersion ?? "")
    }

    /// Creates a tenant; 400 `INVALID_SLUG_FORMAT` or 409 `TENANT_ALREADY_EXISTS` change nothing.
    /// `audit`: the event recording the change, appended in its transaction.
    public func create(slug rawSlug: String, name: String? = nil, audit: (@Sendable (Tenant) -> AuthEvent)? = nil) async throws -> Tenant {
        let slug = try TenantSlug(rawSlug)
        let name = try Self.validName(name, slug: slug)
        return try await db.transaction { tx in
            let tenant = try await create(slug: slug, name: name, in: tx)
            if let audit { try await EventOutbox().append(audit(tenant), in: tx) }
            return tenant
        }
    }

    /// Creates a tenant inside the caller's transaction: in a spare schema made with this
    /// build's files when one is ready (the tenant takes its id), else in a schema made now.
    public func create(slug: TenantSlug, name: String, in tx: PGTransaction) async throws -> Tenant {
        try await createReporting(slug: slug, name: name, in: tx).tenant
    }

    /// `create`, and the tenant migrations it applied: none when a spare was ready (for
    /// `authd migrate`'s report, which must not claim work a spare had done).
    func createReporting(slug: TenantSlug, name: String, in tx: PGTransaction) async throws -> (tenant: Tenant, applied: [String]) {
        // First, before anything is changed: a running `authd migrate` is waited for, a while.
        try await waitForMigrations(in: tx)
        let tenant: Tenant
        if let spare = try await spares.claim(files: files, on: tx) {
            tenant = try await store.insert(id: spare.id, slug: slug.value, name: name, schema: spare.schema, on: tx)
        } else {
            let id = UUID()
            tenant = try await store.insert(id: id, slug: slug.value, name: name, schema: Tenant.schemaName(for: id), on: tx)
            try await store.createSchema(tenant.schemaName, in: tx)
        }
        // A spare has nothing pending (it was made with these very files); a new schema has it all.
        let applied = try await migrations.tenant.migrate(schema: tenant.schemaName, in: tx)
        return (tenant, applied.map(\.name))
    }

    /// Takes the migration lock shared, trying every 50 ms for `migrationWait`; then 503.
    private func waitForMigrations(in tx: PGTransaction) async throws {
        let deadline = ContinuousClock.now + migrationWait
        while try await !PGMigrator.tryShareLock(in: tx) {
            guard ContinuousClock.now < deadline else {
                let seconds = Int(migrationWait.components.seconds)
                throw AuthError.unavailable(retryAfter: max(1, seconds))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Drops the spares made with other files by builds no newer than this one, then makes
    /// spares with this build's files until there are `target`, one transaction each; returns
    /// how many it made. Returns at once while another process makes spares or migrates (it never
    /// waits on either), and makes none while a newer build's spares exist.
    @discardableResult
    public func makeSpares(upTo target: Int) async throws -> Int {
        var made = 0
        while true {
            let step = try await db.transaction { tx -> SpareStep in
                guard try await spares.tryLockMaker(on: tx), try await PGMigrator.tryShareLock(in: tx) else { return .busy }
                if let stale = try await spares.takeStale(for: files, on: tx) {
                    try await store.dropSchema(stale, in: tx)
                    return .dropped
                }
                guard try await !spares.newerExists(than: files, on: tx) else { return .busy }
                guard try await spares.count(files: files, on: tx) < target else { return .full }
                let id = UUID()
                let schema = Tenant.schemaName(for: id)
                try await spares.insert(id: id, schema: schema, files: files, on: tx)
                try await store.createSchema(schema, in: tx)
                try await migrations.tenant.migrate(schema: schema, in: tx)
                return .made
            }
            switch step {
            case .made: made += 1
            case .dropped: continue
            case .busy, .full: return made
            }
        }
    }

    private enum SpareStep { case made, dropped, busy, full }

    /// How many spare schemas made with this build's files are ready.
    public func spareCount() async throws -> Int {
        try await db.statements { try await spares.count(files: files, on: $0) }
    }

    /// Every tenant, oldest first.
    public func list() async throws -> [Tenant] {
        try await db.statements { try await store.list(on: $0) }
    }

    /// The tenant named by its uuid or its slug, or nil.
    public func find(_ idOrSlug: String) async throws -> Tenant? {
        if let id = UUID(uuidString: idOrSlug) { return try await db.statements { try await store.find(id: id, on: $0) } }
        guard let slug = try? TenantSlug(idOrSlug) else { return nil }
        return try await db.statements { try await store.find(slug: slug.value, on: $0) }
    }

    /// Deletes a tenant and drops its schema; 404 when unknown, 409 for the default tenant.
    public func delete(slug rawSlug: String, audit: (@Sendable (Tenant) -> AuthEvent)? = nil) async throws {
        let slug = try TenantSlug(rawSlug)
        guard slug != .defaultTenant else { throw AuthError.tenantProtected }
        try await db.transaction { tx in
            guard let tenant = try await store.delete(slug: slug.value, on: tx) else { throw AuthError.tenantNotFound }
            if let audit { try await EventOutbox().append(audit(tenant), in: tx) }
            try await store.dropSchema(tenant.schemaName, in: tx)
            // Delivered at COMMIT to every running authd: its cached tenant and principals go at
            // once (a process whose feed resyncs drops every cached tenant).
            try await NotificationStore().notify(
                RevocationBroadcaster.channel, payload: RevocationSet.tenantPrefix + tenant.id.uuidString.lowercased(), on: tx)
        }
    }

    /// Tells every running authd, at this transaction's COMMIT, that the tenant changed: each
    /// drops it from its tenant cache and reads it afresh on next use.
    private func broadcastChange(_ id: UUID, in tx: PGTransaction) async throws {
        try await NotificationStore().notify(
            RevocationBroadcaster.channel, payload: RevocationSet.tenantChangedPrefix + id.uuidString.lowercased(), on: tx)
    }

    /// Renames, disables or re-enables a tenant (404 when unknown; the default tenant cannot be
    /// disabled). A disabled tenant resolves no more: every process refuses its logins and its
    /// tokens as the broadcast sent at COMMIT arrives (should it go astray, at the revocation
    /// set's next read of changed tenants; with the feed known out of sync, within 5 s).
    public func update(id: UUID, name: String?, status: Tenant.Status?, audit: (@Sendable (Tenant) -> AuthEvent)? = nil) async throws -> Tenant {
        try await db.transaction(PGTransactionOptions()) { tx in
            guard let current = try await store.find(id: id, forUpdate: true, on: tx) else { throw AuthError.tenantNotFound }
            if status == .disabled, current.slug == TenantSlug.defaultTenant.value { throw AuthError.tenantProtected }
            let validName = try name.map { try Self.validName($0, slug: try TenantSlug(current.slug)) }
            guard let updated = try await store.update(id: id, name: validName, status: status, on: tx) else { throw AuthError.tenantNotFound }
            if let audit { try await EventOutbox().append(audit(updated), in: tx) }
            try await broadcastChange(id, in: tx)
            return updated
        }
    }

    /// Merges `changes` into the tenant's settings (a null value removes a key: the deployment's
    /// value applies again), validating the result; 400 `INVALID_INPUT` changes nothing.
    public func updateSettings(id: UUID, _ changes: JSONObject, audit: (@Sendable (Tenant) -> AuthEvent)? = nil) async throws -> Tenant {
        try await db.transaction(PGTransactionOptions()) { tx in
            // Locked: two changes at once must not lose one another's keys.
            guard let current = try await store.find(id: id, forUpdate: true, on: tx) else { throw AuthError.tenantNotFound }
            var merged = current.overrides.json
            for (key, value) in changes { merged[key] = value == .null ? nil : value }
            let valid = try TenantSettings(validating: merged)
            guard let updated = try await store.setSettings(id: id, valid.json, on: tx) else { throw AuthError.tenantNotFound }
            if let audit { try await EventOutbox().append(audit(updated), in: tx) }
            try await broadcastChange(id, in: tx)
            return updated
        }
    }

    static func validName(_ name: String?, slug: TenantSlug) throws -> String {
        guard let name else { return slug.value }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw AuthError.invalidInput("name", "must be 1–200 characters")
        }
        guard !TextInput.hasControlCharacters(trimmed) else {
            throw AuthError.invalidInput("name", "must not contain control characters")
        }
        return trimmed
    }
}
