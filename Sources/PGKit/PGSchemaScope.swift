/// Autocommit statements in one schema: each statement runs as its own transaction with the
/// schema as its only search path, in one round trip (`PGConnection.query(_:_:searchPath:)`).
/// Tenant statements need no BEGIN/COMMIT this way. Their text is the same for every tenant;
/// each connection prepares it once per schema (`PGStatementCache.key`), and the pool steers a
/// schema's statements to its home connection (`PGPool.withConnection(affinity:)`).
public struct PGSchemaScope: PGQueryable {
    public let pool: PGPool
    public let schema: String

    /// Every statement here has schema-independent text, so it may be prepared.
    @discardableResult
    public func queryUnprepared(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        try await query(sql, binds)
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        let values = binds.map(\.pgBind)
        let schema = self.schema
        return try await pool.withConnection(affinity: schema) { lease in
            try await lease.run { try $0.query(sql, values, searchPath: schema) }
        }
    }
}

extension PGPool {
    /// Autocommit statements whose unqualified names resolve in `schema` only.
    public func schema(_ schema: String) -> PGSchemaScope {
        PGSchemaScope(pool: self, schema: schema)
    }
}
