/// Something statements can run on: a pool (autocommit), a schema scope, a lease, or a
/// transaction. Stores are written against this one protocol.
public protocol PGQueryable: Sendable {
    /// Runs one statement with `$n` parameters; a statement a connection runs again is
    /// prepared on the server (see `PGStatementCache`).
    @discardableResult
    func query(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows

    /// Runs one statement that is never prepared: for SQL whose text varies (an identifier
    /// quoted into it), so it never takes a prepared-statement slot on any connection.
    @discardableResult
    func queryUnprepared(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows
}

extension PGQueryable {
    /// Runs one statement with `$n` parameters given inline.
    @discardableResult
    public func query(_ sql: String, _ binds: any PGEncodable...) async throws -> PGRows {
        try await query(sql, binds)
    }
}

extension PGPool: PGQueryable {}
