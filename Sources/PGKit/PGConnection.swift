import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection. Every method blocks: call them only from a PGKit thread (the pool's
/// thread pool or the listener's own thread), never from the cooperative pool.
///
/// `@unchecked Sendable` because `PGconn*` is a raw pointer; the invariant that makes it safe is
/// that exactly one thread uses a connection at a time (a pool checkout or the listener thread).
public final class PGConnection: @unchecked Sendable {
    let raw: OpaquePointer
    /// Statements prepared on this connection's server session (see `PGStatementCache`).
    private var statements: PGStatementCache

    /// Session settings every connection gets, so decoding and logs do not depend on server
    /// defaults: UTC ISO timestamps, and no NOTICE noise (PGKit drops notices anyway).
    static let sessionSetup =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_min_messages = warning; SET bytea_output = 'hex'"

    /// Connects with a libpq conninfo string or URI (`host=… dbname=…` or `postgresql://…`).
    /// `preparedStatements` caps the statements kept prepared on the server (0: none, e.g.
    /// behind a pooler in transaction mode that cannot follow them).
    public init(conninfo: String, preparedStatements: Int = 256) throws {
        guard let c = PQconnectdb(conninfo) else { throw PGError.fromConnection(nil, "connect") }
        guard PQstatus(c) == CONNECTION_OK else {
            let error = PGError.fromConnection(c, "connect")
            PQfinish(c)
            throw error
        }
        // Drop NOTICE/WARNING text libpq would print to stderr (e.g. "drop cascades to …").
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        raw = c
        statements = PGStatementCache(capacity: preparedStatements)
        try execute(Self.sessionSetup)
    }

    deinit { PQfinish(raw) }

    /// The server process id serving this connection (`pg_backend_pid()`).
    public var backendPID: Int32 { PQbackendPID(raw) }

    /// False once libpq has seen the connection break.
    public var isOK: Bool { PQstatus(raw) == CONNECTION_OK }

    /// True when the connection is inside a transaction block (open or failed).
    public var inTransaction: Bool {
        let s = PQtransactionStatus(raw)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR
    }

    /// Runs one statement with `$n` parameters (extended protocol). A statement run more than
    /// once on this connection is prepared on the server, so later runs skip parse and plan.
    @discardableResult
    public func query(_ sql: String, _ binds: [PGBind] = []) throws -> PGRows {
        let types = binds.map { Oid($0.oid) }
        let cStrings: [UnsafeMutablePointer<CChar>?] = binds.map { $0.text.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        let count = Int32(binds.count)
        let key = PGStatementCache.key(sql, binds.map(\.oid))
        switch statements.plan(key, idle: PQtransactionStatus(raw) == PQTRANS_IDLE) {
        case .unnamed:
            return try check(PQexecParams(raw, sql, count, types, values, nil, nil, 0))
        case .prepare(let name, let evicting):
            // Outside a transaction (see `plan`): a failure here cannot abort anything. The
            // names are our own `pgkit_N`.
            for old in evicting { _ = try? check(PQexec(raw, "DEALLOCATE \(old)")) }
            _ = try check(PQprepare(raw, name, sql, count, types))
            statements.prepared(key, as: name)
            return try executePrepared(name, key: key, count: count, values: values)
        case .execute(let name):
            return try executePrepared(name, key: key, count: count, values: values)
        }
    }

    private func executePrepared(_ name: String, key: String, count: Int32, values: [UnsafePointer<CChar>?]) throws -> PGRows {
        do {
            return try check(PQexecPrepared(raw, name, count, values, nil, nil, 0))
        } catch let error as PGError {
            // 26000: the statement is gone; 0A000: "cached plan must not change result type"
            // (a table's columns changed under it). Either way a fresh statement will do.
            if error.sqlState == "26000" || error.sqlState == "0A000" { statements.forget(key, exists: error.sqlState == "0A000") }
            throw error
        }
    }

    /// How many statements this connection keeps prepared on the server.
    public var preparedStatementCount: Int { statements.count }

    /// Runs SQL text that may hold several statements (simple protocol, no parameters): used for
    /// migration files and fixed session commands, never for values.
    @discardableResult
    public func execute(_ sql: String) throws -> PGRows {
        try check(PQexec(raw, sql))
    }

    /// Quotes an identifier (schema or channel name) with libpq's own escaping.
    public func escapeIdentifier(_ name: String) throws -> String {
        guard let p = PQescapeIdentifier(raw, name, name.utf8.count) else {
            throw PGError.fromConnection(raw, "escape identifier")
        }
        defer { PQfreemem(p) }
        return String(cString: p)
    }

    /// A cheap liveness probe that sends nothing. A pooled connection is idle and LISTENs to
    /// nothing, so the server has no reason to write to it: input while idle means it is closing
    /// the session (`pg_terminate_backend`, shutdown, idle timeout — a FATAL message, then EOF,
    /// possibly in separate reads). Such a connection is reported dead rather than risk a query.
    public func probeAlive() -> Bool {
        guard isOK else { return false }
        var pfd = pollfd(fd: PQsocket(raw), events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) == 0
    }

    /// A NOTIFY received on this connection.
    struct Notification {
        var channel: String
        var payload: String
        var pid: Int32
    }

    /// The socket libpq reads from (for `poll`).
    var socket: Int32 { PQsocket(raw) }

    /// Reads whatever the server sent; throws when the connection is gone.
    func consumeInput() throws {
        guard PQconsumeInput(raw) == 1, isOK else { throw PGError.fromConnection(raw, "connection lost") }
    }

    /// Takes the notifications libpq has parsed so far.
    func drainNotifications() -> [Notification] {
        var out: [Notification] = []
        while let n = PQnotifies(raw) {
            out.append(Notification(
                channel: String(cString: n.pointee.relname), payload: String(cString: n.pointee.extra),
                pid: n.pointee.be_pid))
            PQfreemem(n)
        }
        return out
    }

    private func check(_ result: OpaquePointer?) throws -> PGRows {
        guard let result else { throw PGError.fromConnection(raw, "query") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            return PGRows(result: result)
        }
        throw PGError.fromResult(result, connection: raw)
    }
}
