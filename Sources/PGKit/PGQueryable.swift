/// Something statements can run on: a pool (autocommit), a lease, or a transaction.
public protocol PGQueryable: Sendable {
    /// Runs one statement with `$n` parameters.
    @discardableResult
    func query(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows
}

extension PGQueryable {
    /// Runs one statement with `$n` parameters given inline.
    @discardableResult
    public func query(_ sql: String, _ binds: any PGEncodable...) async throws -> PGRows {
        try await query(sql, binds)
    }
}

extension PGPool: PGQueryable {}
