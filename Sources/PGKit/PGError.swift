import CLibPQ

/// An error from PostgreSQL or from PGKit itself.
///
/// Server errors carry the SQLSTATE and, where PostgreSQL reports them, the constraint, detail and
/// hint, so stores can map e.g. `23505` on a named constraint to a domain error. The message of a
/// server error is never meant for a client: callers map it before it leaves the service.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Kind: Sendable, Equatable {
        /// The server answered the statement with an error (SQLSTATE set).
        case server
        /// Connecting failed or the connection broke.
        case connection
        /// `COMMIT` answered `ROLLBACK`: an earlier statement in the transaction had failed.
        case commitRolledBack
        /// No connection became free within the pool's acquire timeout.
        case acquireTimeout
        /// The pool or listener is shut down.
        case shutDown
        /// A transaction handle was used after its closure returned, or by two tasks at once.
        case misuse
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// A migration file is malformed, changed after it was applied, or failed.
        case migration
        /// A parameter cannot be sent as it is: a string holding NUL, which libpq's text
        /// parameters (C strings) would silently cut off there. Nothing was sent.
        case invalidParameter
    }

    public var kind: Kind
    public var message: String
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    /// True when the statement is known not to have run: it was never sent, or the server had
    /// already ended the session (`57P01`–`57P03`) when it arrived. Only such a statement may
    /// be sent again on another connection.
    public var notExecuted: Bool

    public init(
        _ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, notExecuted: Bool = false
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.notExecuted = notExecuted
    }

    /// True for `23505 unique_violation`, optionally on the named constraint.
    public func isUniqueViolation(constraint name: String? = nil) -> Bool {
        sqlState == "23505" && (name == nil || constraint == name)
    }

    /// True when the database could not serve the request for now — the connection was lost,
    /// the server is shutting down, starting, in recovery or out of connections, no pooled
    /// connection came free, a lock or serialization conflict — and nothing was wrong with the
    /// statement itself: the caller may try again shortly (HTTP 503 with `Retry-After`).
    public var isUnavailable: Bool {
        switch kind {
        case .connection, .acquireTimeout, .shutDown: return true
        case .commitRolledBack, .misuse, .decoding, .migration, .invalidParameter: return false
        case .server: break
        }
        guard let state = sqlState else { return false }
        // 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now; 53:
        // insufficient resources; 25006: read-only transaction (a standby during failover);
        // 40001/40P01: serialization failure, deadlock; 55P03: lock not available; 57014:
        // statement cancelled (timeout).
        return state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53")
            || ["25006", "40001", "40P01", "55P03", "57014"].contains(state)
    }

    /// True when the schema or table a statement named does not exist (`3F000`, `42P01`): for a
    /// tenant statement, the tenant's schema was dropped under it.
    public var isMissingRelation: Bool {
        sqlState == "3F000" || sqlState == "42P01"
    }

    public var description: String {
        var s = "PGError(\(kind)"
        if let sqlState { s += " [\(sqlState)]" }
        s += "): \(message)"
        if let constraint { s += " constraint=\(constraint)" }
        if let detail { s += " detail=\(detail)" }
        if notExecuted { s += " (not executed)" }
        return s + ")"
    }

    /// SQLSTATEs with which the server ends a session before or instead of running what was
    /// sent: a statement answered with one of these did not run (a commit in progress is
    /// finished first, and then answered normally).
    static let sessionEnded: Set<String> = ["57P01", "57P02", "57P03"]

    /// Builds an error from a failed result, reading the diagnostic fields libpq exposes.
    static func fromResult(_ result: OpaquePointer, connection: OpaquePointer) -> PGError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let primary = field(CPQ_DIAG_MESSAGE_PRIMARY)
            ?? String(cString: PQresultErrorMessage(result)).trimmingNewlines()
        let state = field(CPQ_DIAG_SQLSTATE)
        let bad = PQstatus(connection) == CONNECTION_BAD
        // The server ending the session (read before libpq has seen the EOF that follows).
        let ended = state.map(sessionEnded.contains) == true
        // Class 08, a session ended, or a connection that is now bad: the link broke, not the statement.
        let broken = state == nil || state?.hasPrefix("08") == true || ended || bad
        // libpq reports a failed write only once the read failed too: the statement never left.
        let unsent = bad && state == nil && primary.contains("could not send data to server")
        let notExecuted = ended || unsent
        return PGError(
            broken ? .connection : .server, primary, sqlState: state, detail: field(CPQ_DIAG_MESSAGE_DETAIL),
            hint: field(CPQ_DIAG_MESSAGE_HINT), constraint: field(CPQ_DIAG_CONSTRAINT_NAME), notExecuted: notExecuted)
    }

    /// Builds a connection-level error from libpq's last message on `connection`.
    static func fromConnection(_ connection: OpaquePointer?, _ context: String, notExecuted: Bool = false) -> PGError {
        let text = connection.map { String(cString: PQerrorMessage($0)).trimmingNewlines() } ?? "out of memory"
        return PGError(.connection, "\(context): \(text)", notExecuted: notExecuted)
    }
}

extension String {
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
