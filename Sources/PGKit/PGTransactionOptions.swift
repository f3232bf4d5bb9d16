/// How a transaction starts. Everything here travels with `BEGIN`, in one round trip.
public struct PGTransactionOptions: Sendable {
    public var isolation: PGIsolationLevel
    /// The transaction's only schema (`SET LOCAL search_path`, quoted by libpq).
    public var searchPath: String?
    public var readOnly: Bool
    /// False: `SET LOCAL synchronous_commit = off` — COMMIT does not wait for the WAL flush, so a
    /// crash may lose this transaction. Only for bookkeeping that is safe to repeat.
    public var synchronousCommit: Bool
    /// A transaction-scoped advisory lock keyed by this text
    /// (`pg_advisory_xact_lock(hashtextextended(key, 0))`, the key quoted by libpq), taken in its
    /// own statement after BEGIN — so, at READ COMMITTED (each statement takes a new snapshot),
    /// a snapshot taken by a later statement is never older than the lock. At REPEATABLE READ or
    /// SERIALIZABLE the transaction's one snapshot is taken by the lock statement itself, before
    /// it waits: do not rely on the lock for freshness there.
    public var advisoryLock: String?

    public init(
        isolation: PGIsolationLevel = .readCommitted, searchPath: String? = nil, readOnly: Bool = false,
        synchronousCommit: Bool = true, advisoryLock: String? = nil
    ) {
        self.isolation = isolation
        self.searchPath = searchPath
        self.readOnly = readOnly
        self.synchronousCommit = synchronousCommit
        self.advisoryLock = advisoryLock
    }

    /// Statements in a schema are prepared once per schema and connection (see
    /// `PGStatementCache.key`), so each runs only a few times there; under the default
    /// `plan_cache_mode` the first five runs are planned afresh, which is the cost the
    /// per-schema statements exist to avoid. It applies to every statement of the transaction,
    /// unprepared ones and triggers included. authd's tenant statements read by key, where a
    /// generic plan is the plan; the one with optional filters (the admin user list) matches by
    /// substring, which no index serves under either kind of plan.
    static let genericPlansSQL = "SET LOCAL plan_cache_mode = force_generic_plan"

    /// The BEGIN text for `conn` (identifiers and literals quoted by libpq).
    func beginSQL(on conn: PGConnection) throws -> String {
        var sql = "BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")"
        if let searchPath { sql += "; SET LOCAL search_path TO \(try conn.escapeIdentifier(searchPath)); \(Self.genericPlansSQL)" }
        if !synchronousCommit { sql += "; SET LOCAL synchronous_commit = off" }
        if let advisoryLock { sql += "; SELECT pg_advisory_xact_lock(hashtextextended(\(try conn.escapeLiteral(advisoryLock)), 0))" }
        return sql
    }
}
