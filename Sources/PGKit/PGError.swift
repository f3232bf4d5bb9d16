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
    }

    public var kind: Kind
    public var message: String
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?

    public init(
        _ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    /// True for `23505 unique_violation`, optionally on the named constraint.
    public func isUniqueViolation(constraint name: String? = nil) -> Bool {
        sqlState == "23505" && (name == nil || constraint == name)
    }

    public var description: String {
        var s = "PGError(\(kind)"
        if let sqlState { s += " [\(sqlState)]" }
        s += "): \(message)"
        if let constraint { s += " constraint=\(constraint)" }
        if let detail { s += " detail=\(detail)" }
        return s + ")"
    }

    /// Builds an error from a failed result, reading the diagnostic fields libpq exposes.
    static func fromResult(_ result: OpaquePointer, connection: OpaquePointer) -> PGError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let primary = field(CPQ_DIAG_MESSAGE_PRIMARY)
            ?? String(cString: PQresultErrorMessage(result)).trimmingNewlines()
        let state = field(CPQ_DIAG_SQLSTATE)
        // Class 08 and a connection that is now bad mean the link broke, not the statement.
        let broken = state == nil || state?.hasPrefix("08") == true || PQstatus(connection) == CONNECTION_BAD
        let kind: Kind = broken ? .connection : .server
        return PGError(
            kind, primary, sqlState: state, detail: field(CPQ_DIAG_MESSAGE_DETAIL),
            hint: field(CPQ_DIAG_MESSAGE_HINT), constraint: field(CPQ_DIAG_CONSTRAINT_NAME))
    }

    /// Builds a connection-level error from libpq's last message on `connection`.
    static func fromConnection(_ connection: OpaquePointer?, _ context: String) -> PGError {
        let text = connection.map { String(cString: PQerrorMessage($0)).trimmingNewlines() } ?? "out of memory"
        return PGError(.connection, "\(context): \(text)")
    }
}

extension String {
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
