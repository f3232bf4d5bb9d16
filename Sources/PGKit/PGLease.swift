import Synchronization

/// A connection held by one task for the length of a `withConnection` closure.
///
/// The closure runs with the connection's own thread as its preferred executor, so statements
/// issued from it need no thread switch (see `PGThread`). The lease refuses calls after its
/// closure returned (the connection may already serve someone else) and refuses two calls at
/// once (one `PGconn` must never be used by two threads).
public final class PGLease: PGQueryable {
    let slot: PGSlot
    private struct State {
        var ended = false
        var busy = false
        var used = false
        /// `end()` waiting for a call in flight.
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    init(slot: PGSlot) {
        self.slot = slot
    }

    /// The server process id of the leased connection.
    public var backendPID: Int32 { slot.connection.backendPID }

    @discardableResult
    public func query(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        let values = binds.map(\.pgBind)
        return try await run { try $0.query(sql, values) }
    }

    @discardableResult
    public func queryUnprepared(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        let values = binds.map(\.pgBind)
        return try await run { try $0.query(sql, values, prepare: false) }
    }

    /// Runs SQL text that may hold several statements and no parameters (migration files).
    @discardableResult
    public func execute(_ sql: String) async throws -> PGRows {
        try await run { try $0.execute(sql) }
    }

    /// Quotes an identifier with libpq's escaping (no round trip).
    public func escapeIdentifier(_ name: String) async throws -> String {
        try await run { try $0.escapeIdentifier(name) }
    }

    /// Runs a blocking closure on the connection's thread with exclusive use of the connection.
    /// It always runs, even for a cancelled task, so cleanup statements are never skipped. The
    /// first call of a lease is sent again once on a fresh connection if the connection turned
    /// out dead before anything reached the server (see `PGSlot.run`).
    func run<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let first = try state.withLock { s -> Bool in
            if s.ended { throw PGError(.misuse, "connection used after its withConnection/withTransaction closure returned") }
            if s.busy { throw PGError(.misuse, "one connection used by two tasks at once") }
            s.busy = true
            defer { s.used = true }
            return !s.used
        }
        defer {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.busy = false
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
        let slot = self.slot
        return try await slot.thread.run { try slot.run(body, mayRetry: first) }
    }

    /// Refuses further calls, and waits for a call still in flight (one started by a task the
    /// closure spawned and did not await) so the connection is never handed on while in use.
    /// (A continuation, not a sleep loop: a cancelled task's sleep returns at once, and the loop
    /// would spin on the very thread the call in flight needs.)
    func end() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { s -> Bool in
                s.ended = true
                if s.busy { s.waiter = continuation }
                return s.busy
            }
            if !wait { continuation.resume() }
        }
    }
}

extension PGLease {
    /// Runs a transaction on this leased connection (e.g. while holding a session-level
    /// advisory lock on it); same semantics as `PGPool.withTransaction`.
    @discardableResult
    public func withTransaction<T>(
        isolation: PGIsolationLevel = .readCommitted, searchPath: String? = nil, _ body: (PGTransaction) async throws -> T
    ) async throws -> T {
        try await PGTransaction.run(on: self, PGTransactionOptions(isolation: isolation, searchPath: searchPath), body)
    }
}
