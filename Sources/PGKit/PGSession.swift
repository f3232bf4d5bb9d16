/// Statements on one server session (a leased connection, or a transaction on it): what can
/// also quote identifiers with that connection's own libpq escaping.
public protocol PGSession: PGQueryable {
    /// Quotes an identifier (a schema name) with libpq's escaping.
    func escapeIdentifier(_ name: String) async throws -> String
}

extension PGLease: PGSession {}
extension PGTransaction: PGSession {}
