import Logging
import PGKit

/// The one door between AuthCore and PostgreSQL: transactions in a tenant's schema, autocommit
/// statements in a tenant's schema, and transactions and statements on the global schema.
/// Flows reach the database only through it and hand the handle it gives to stores, which hold
/// all the SQL. Every `PGError` leaving is turned into an `AuthError` here (`DatabaseErrors`),
/// so nothing above AuthCore ever sees one.
public struct AuthDatabase: Sendable {
    public let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// A transaction whose only schema is the tenant's (transaction-local search path).
    public func inTenant<T>(_ tenant: Tenant, readOnly: Bool = false, _ body: (PGTransaction) async throws -> T) async throws -> T {
        try await mapping(tenant) {
            try await pool.withTransaction(searchPath: tenant.schemaName, readOnly: readOnly, body)
        }
    }

    /// Autocommit statements in the tenant's schema: each its own transaction, one round trip.
    public func tenantStatements<T>(_ tenant: Tenant, _ body: (PGSchemaScope) async throws -> T) async throws -> T {
        try await mapping(tenant) { try await body(pool.schema(tenant.schemaName)) }
    }

    /// A transaction on the global schema (statements name `auth.` tables).
    public func transaction<T>(_ options: PGTransactionOptions = PGTransactionOptions(), _ body: (PGTransaction) async throws -> T)
        async throws -> T
    {
        try await mapping(nil) { try await pool.withTransaction(options, body) }
    }

    /// Autocommit statements on the global schema.
    public func statements<T>(_ body: (PGPool) async throws -> T) async throws -> T {
        try await mapping(nil) { try await body(pool) }
    }

    private func mapping<T>(_ tenant: Tenant?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PGError {
            // A missing table in a tenant's schema means the tenant was deleted under the request
            // — if it really is gone from the registry; otherwise it is a fault (a schema behind
            // on migrations), not a reason to log anyone out.
            var gone = false
            if let tenant, error.isMissingRelation {
                do { gone = try await TenantStore().find(id: tenant.id, on: pool) == nil } catch { gone = false }
            }
            throw DatabaseErrors.map(error, tenantGone: gone)
        }
    }
}
