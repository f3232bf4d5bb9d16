import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection. Every method blocks: call them only from a PGKit thread (the pool's
/// `PGThread` of the connection, or the listener's own thread), never from the cooperative pool.
///
/// `@unchecked Sendable` because `PGconn*` is a raw pointer; the invariant that makes it safe is
/// that exactly one thread uses a connection at a time (a pool checkout or the listener thread).
public final class PGConnection: @unchecked Sendable {
    let raw: OpaquePointer
    /// Statements prepared on this connection's server session (see `PGStatementCache`).
    private var statements: PGStatementCache
    /// Where this connection counts how it sent statements (a pool's), if anywhere.
    private let statistics: PGPoolStatistics?
    /// The search path of the transaction `PGTransaction.run` began last (set at every BEGIN it
    /// sends), part of the statement cache's key for statements run inside a transaction. Only a
    /// cache key: a stale value (a transaction begun some other way) costs a re-plan on the
    /// server, never a wrong answer.
    var transactionScope: String?
    /// Statements the server has answered on this connection (successfully or with an error):
    /// if a failure leaves it unchanged, nothing reached the server (see `PGSlot`).
    private(set) var answered = 0

    /// Session settings every connection gets, so decoding and logs do not depend on server
    /// defaults: UTC ISO timestamps, and no NOTICE noise (PGKit drops notices anyway).
    static let sessionSetup =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_min_messages = warning; SET bytea_output = 'hex'"

    /// Connects with a libpq conninfo string or URI (`host=… dbname=…` or `postgresql://…`).
    /// `preparedStatements` caps the statements kept prepared on the server (0: none, e.g.
    /// behind a pooler in transaction mode that cannot follow them). `statistics`: where the
    /// connection counts how it sent each statement (a pool's; see `PGPoolStatistics`).
    public init(conninfo: String, preparedStatements: Int = 256, statistics: PGPoolStatistics? = nil) throws {
        guard !conninfo.utf8.contains(0) else { throw PGError(.invalidParameter, "connection string contains a NUL character") }
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
        self.statistics = statistics
        try execute(Self.sessionSetup)
    }

    deinit { PQfinish(raw) }

    /// The server process id serving this connection (`pg_backend_pid()`).
    public var backendPID: Int32 { PQbackendPID(raw) }

    /// False once libpq has seen the connection break.
    public var isOK: Bool { PQstatus(raw) == CONNECTION_OK }

    /// True when the connection can be handed to someone else as it is: not broken, outside any
    /// transaction, not left in pipeline mode.
    var isClean: Bool {
        isOK && PQtransactionStatus(raw) == PQTRANS_IDLE && PQpipelineStatus(raw) == PQ_PIPELINE_OFF
    }

    /// True when the connection is inside a transaction block (open or failed).
    public var inTransaction: Bool {
        let s = PQtransactionStatus(raw)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR
    }

    /// Runs one statement with `$n` parameters (extended protocol). With `prepare`, a statement
    /// run more than once on this connection is prepared on the server, so later runs skip parse
    /// and plan; statements whose text varies (a quoted identifier in it) pass `prepare: false`
    /// so they never take a slot. A string parameter holding NUL is refused before anything is
    /// sent (`PGError.Kind.invalidParameter`): libpq would cut it off there.
    @discardableResult
    public func query(_ sql: String, _ binds: [PGBind] = [], prepare: Bool = true) throws -> PGRows {
        try Self.checkSendable(sql, binds)
        let status = PQtransactionStatus(raw)
        if status == PQTRANS_IDLE, statements.hasStale { deallocate(statements.takeStale()) }
        let scope = status == PQTRANS_IDLE ? nil : transactionScope
        let key = PGStatementCache.key(sql, binds.map(\.oid), scope: scope)
        let plan = prepare ? statements.plan(key, idle: status == PQTRANS_IDLE, eager: scope != nil) : .unnamed
        return try withParameters(binds) { types, values, count in
            switch plan {
            case .unnamed:
                statistics?.countUnnamed()
                return try exchange { PQsendQueryParams(raw, sql, count, types, values, nil, nil, 0) }
            case .prepare(let name, let evicting):
                // Only outside a transaction does a plan name statements to drop now (see
                // `PGStatementCache.plan`). A statement may be prepared inside one: if that
                // fails, running it would have failed the same way.
                deallocate(evicting)
                _ = try exchange { PQsendPrepare(raw, name, sql, count, types) }
                statements.prepared(key, as: name)
                statistics?.countPrepared()
                return try executePrepared(name, key: key, count: count, values: values)
            case .execute(let name):
                statistics?.countReused()
                return try executePrepared(name, key: key, count: count, values: values)
            }
        }
    }

    /// Drops server-side statements by name (our own `pgkit_N`), one round trip each; a failure
    /// only leaves a statement behind on the server until the connection closes. Housekeeping,
    /// not the caller's statement: `answered` is left as it was, so a statement that then fails
    /// without reaching the server may still be retried (see `PGSlot`).
    private func deallocate(_ names: [String]) {
        let before = answered
        defer { answered = before }
        for name in names where (try? exchange { PQsendQuery(raw, "DEALLOCATE \(name)") }) != nil {
            statistics?.countDeallocated()
        }
    }

    /// Runs one statement as its own transaction with `searchPath` as its schema, in one round
    /// trip: `set_config('search_path', …, true)` and the statement are pipelined before one Sync,
    /// so they share one implicit transaction and the path ends with it. The statement's text is
    /// the same for every schema; it is prepared once per schema (see `PGStatementCache.key`),
    /// with generic plans forced (see `PGTransactionOptions.genericPlansSQL`). Autocommit only:
    /// the connection must be outside a transaction.
    public func query(_ sql: String, _ binds: [PGBind], searchPath: String) throws -> PGRows {
        guard PQtransactionStatus(raw) == PQTRANS_IDLE else {
            throw PGError(.misuse, "a schema-scoped autocommit statement was run inside a transaction")
        }
        try Self.checkSendable(sql, binds)
        if self.statements.hasStale { deallocate(self.statements.takeStale()) }
        let statements: [(sql: String, binds: [PGBind], scope: String?)] = [
            (
                "SELECT set_config('search_path', $1, true), set_config('plan_cache_mode', 'force_generic_plan', true)",
                [PGBind(oid: PGOID.text, text: try escapeIdentifier(searchPath))], nil
            ),
            (sql, binds, searchPath),
        ]
        let results = try pipeline(statements)
        return try results[results.count - 1].get()
    }

    /// Sends `items` in one pipeline before one Sync — one implicit transaction, one round trip —
    /// and returns each statement's outcome; throws the first error. A statement due for
    /// preparation is prepared inside the pipeline, after the statements before it (so its names
    /// resolve under a search path they set).
    private func pipeline(_ items: [(sql: String, binds: [PGBind], scope: String?)]) throws -> [Result<PGRows, PGError>] {
        var plans: [(key: String, plan: PGStatementCache.Plan)] = []
        // With fewer slots than statements, one statement's preparation could evict another's
        // that the same pipeline executes: then they all run unnamed.
        let usePrepared = statements.capacity >= items.count
        for item in items {
            let key = PGStatementCache.key(item.sql, item.binds.map(\.oid), scope: item.scope)
            let plan = usePrepared ? statements.plan(key, idle: true, eager: item.scope != nil) : .unnamed
            if case .prepare(let name, let evicting) = plan {
                deallocate(evicting)
                // Recorded now, so the next statement's plan counts it (undone if it fails).
                statements.prepared(key, as: name)
            }
            plans.append((key, plan))
        }
        // Until the results are matched, a preparation recorded above is unconfirmed: if the
        // pipeline fails before (entering, sending, syncing), the server never got it.
        var matched = false
        defer {
            if !matched {
                for (key, plan) in plans { if case .prepare = plan { statements.forget(key, exists: false) } }
            }
        }
        guard PQenterPipelineMode(raw) == 1 else { throw PGError.fromConnection(raw, "pipeline", notExecuted: true) }
        defer { _ = PQexitPipelineMode(raw) }
        for (item, (_, plan)) in zip(items, plans) {
            let sent = withParameters(item.binds) { types, values, count -> Bool in
                switch plan {
                case .unnamed:
                    return PQsendQueryParams(raw, item.sql, count, types, values, nil, nil, 0) == 1
                case .execute(let name):
                    return PQsendQueryPrepared(raw, name, count, values, nil, nil, 0) == 1
                case .prepare(let name, _):
                    return PQsendPrepare(raw, name, item.sql, count, types) == 1
                        && PQsendQueryPrepared(raw, name, count, values, nil, nil, 0) == 1
                }
            }
            guard sent else { throw PGError.fromConnection(raw, "pipeline send", notExecuted: true) }
        }
        guard PQpipelineSync(raw) == 1 else { throw PGError.fromConnection(raw, "pipeline sync", notExecuted: true) }
        // One result per command (a preparation is a command of its own), each followed by NULL,
        // then the Sync's own result.
        var results: [Result<PGRows, PGError>] = []
        while true {
            guard let result = PQgetResult(raw) else {
                if PQstatus(raw) == CONNECTION_BAD { break }
                continue
            }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC { break }
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
                results.append(.success(PGRows(result: result)))
            } else if status == PGRES_PIPELINE_ABORTED {
                results.append(.failure(PGError(.server, "not run: an earlier statement of its pipeline failed")))
            } else {
                results.append(.failure(PGError.fromResult(result, connection: raw)))
                if PQstatus(raw) == CONNECTION_BAD { break }
            }
        }
        // Match results to statements: a `.prepare` plan produced two (prepare, execute).
        matched = true
        var outcomes: [Result<PGRows, PGError>] = []
        var next = 0
        for (key, plan) in plans {
            switch plan {
            case .prepare:
                let prepared: Bool
                if next < results.count, case .success = results[next] { prepared = true } else { prepared = false }
                if prepared { statistics?.countPrepared() } else { statements.forget(key, exists: false) }
                next += 1
            case .execute: statistics?.countReused()
            case .unnamed: statistics?.countUnnamed()
            }
            let outcome = next < results.count ? results[next] : .failure(PGError.fromConnection(raw, "pipeline ended early"))
            // As for a single statement: a statement gone (26000) or whose result type changed
            // (0A000) is forgotten, so the next run prepares a fresh one.
            if case .failure(let error) = outcome, error.sqlState == "26000" || error.sqlState == "0A000" {
                statements.forget(key, exists: error.sqlState == "0A000")
            }
            outcomes.append(outcome)
            next += 1
        }
        // The first error the server reported (or the early end), as for a single statement.
        for outcome in results + outcomes {
            if case .failure(let failure) = outcome {
                if !failure.notExecuted { answered += 1 }
                throw failure
            }
        }
        answered += 1
        return outcomes
    }

    private func executePrepared(_ name: String, key: String, count: Int32, values: [UnsafePointer<CChar>?]) throws -> PGRows {
        do {
            return try exchange { PQsendQueryPrepared(raw, name, count, values, nil, nil, 0) }
        } catch let error as PGError {
            // 26000: the statement is gone; 0A000: "cached plan must not change result type"
            // (a table's columns changed under it). Either way a fresh statement will do.
            if error.sqlState == "26000" || error.sqlState == "0A000" { statements.forget(key, exists: error.sqlState == "0A000") }
            throw error
        }
    }

    /// Text parameters as C strings for the duration of `body`.
    private func withParameters<T>(
        _ binds: [PGBind], _ body: (_ types: [Oid], _ values: [UnsafePointer<CChar>?], _ count: Int32) throws -> T
    ) rethrows -> T {
        let cStrings: [UnsafeMutablePointer<CChar>?] = binds.map { $0.text.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        return try body(binds.map { Oid($0.oid) }, cStrings.map { $0.map { UnsafePointer($0) } }, Int32(binds.count))
    }

    /// Refuses what libpq would silently truncate: a NUL in a parameter or in the SQL itself.
    static func checkSendable(_ sql: String, _ binds: [PGBind]) throws {
        for (i, bind) in binds.enumerated() where bind.text.map(hasNUL) == true {
            throw PGError(
                .invalidParameter, "parameter $\(i + 1) contains a NUL character, which a PostgreSQL string cannot hold",
                notExecuted: true)
        }
        if hasNUL(sql) { throw PGError(.misuse, "SQL text contains a NUL character", notExecuted: true) }
    }

    /// `memchr` over the string's UTF-8 when it is contiguous (native strings are): every
    /// statement's text passes through here, and the generic `contains` walked it byte by byte
    /// (1% of a refresh's CPU in a profile).
    private static func hasNUL(_ text: String) -> Bool {
        if let found = text.utf8.withContiguousStorageIfAvailable({ bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        }) {
            return found
        }
        return text.utf8.contains(0)
    }

    /// How many statements this connection keeps prepared on the server.
    public var preparedStatementCount: Int { statements.count }

    /// Runs SQL text that may hold several statements (simple protocol, no parameters): used for
    /// migration files and fixed session commands, never for values. Never prepared.
    @discardableResult
    public func execute(_ sql: String) throws -> PGRows {
        try Self.checkSendable(sql, [])
        return try exchange { PQsendQuery(raw, sql) }
    }

    /// Quotes an identifier (schema or channel name) with libpq's own escaping.
    public func escapeIdentifier(_ name: String) throws -> String {
        try escape(name, "identifier") { PQescapeIdentifier($0, $1, $2) }
    }

    /// Quotes a string literal with libpq's own escaping (for text sent in the simple protocol,
    /// which takes no parameters; values otherwise always travel as `$n` binds).
    public func escapeLiteral(_ value: String) throws -> String {
        try escape(value, "literal") { PQescapeLiteral($0, $1, $2) }
    }

    private func escape(
        _ text: String, _ what: String, _ function: (OpaquePointer, String, Int) -> UnsafeMutablePointer<CChar>?
    ) throws -> String {
        guard !text.utf8.contains(0) else { throw PGError(.invalidParameter, "\(what) contains a NUL character") }
        guard let p = function(raw, text, text.utf8.count) else { throw PGError.fromConnection(raw, "escape \(what)") }
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

    /// Sends one command and reads all its results (several for multi-statement text): returns
    /// the last, throws the first error. Unlike `PQexec`, which keeps only the last result, this
    /// sees the server's own error even when the connection closed right after it — a session
    /// ended by the server (`57P01`) before the command arrived is known not to have run it.
    private func exchange(_ send: () -> Int32) throws -> PGRows {
        guard send() == 1 else {
            // Nothing left: libpq could not send the command (a broken connection, or misuse).
            throw PGError.fromConnection(raw, "send", notExecuted: PQstatus(raw) == CONNECTION_BAD)
        }
        var last: PGRows?
        var failure: PGError?
        while let result = PQgetResult(raw) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            // PGKit speaks no COPY, and PQgetResult would return this state forever: end it (the
            // server then answers the command with an error) and report that.
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                failure = failure ?? PGError(.misuse, "COPY is not supported (a migration file from pg_dump? use INSERTs)")
                if status == PGRES_COPY_IN {
                    _ = PQputCopyEnd(raw, "COPY is not supported by PGKit")
                } else if status == PGRES_COPY_OUT {
                    var buffer: UnsafeMutablePointer<CChar>?
                    while PQgetCopyData(raw, &buffer, 0) > 0 { PQfreemem(buffer) }
                } else {
                    break
                }
                continue
            }
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                last = PGRows(result: result)
            } else if failure == nil {
                failure = PGError.fromResult(result, connection: raw)
            }
            if PQstatus(raw) == CONNECTION_BAD { break }
        }
        if let failure {
            if !failure.notExecuted { answered += 1 }
            throw failure
        }
        guard let last else { throw PGError.fromConnection(raw, "no result", notExecuted: false) }
        answered += 1
        return last
    }
}
