import NIOPosix
import Synchronization

/// A connection held by one task for the length of a `withConnection` closure.
///
/// Each call hops to the pool's threads for the blocking libpq work. The lease refuses calls
/// after its closure returned (the connection may already serve someone else) and refuses two
/// calls at once (one `PGconn` must never be used by two threads).
public final class PGLease: PGQueryable {
    let connection: PGConnection
    let threads: NIOThreadPool
    private let state = Mutex<(ended: Bool, busy: Bool)>((false, false))

    init(connection: PGConnection, threads: NIOThreadPool) {
        self.connection = connection
        self.threads = threads
    }

    /// The server process id of the leased connection.
    public var backendPID: Int32 { connection.backendPID }

    @discardableResult
    public func query(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        let values = binds.map(\.pgBind)
        return try await run { try $0.query(sql, values) }
    }

    /// Runs SQL text that may hold several statements and no parameters (migration files).
    @discardableResult
    public func execute(_ sql: String) async throws -> PGRows {
        try await run { try $0.execute(sql) }
    }

    /// Quotes an identifier with libpq's escaping (no round trip).
    public func escapeIdentifier(_ name: String) throws -> String {
        try connection.escapeIdentifier(name)
    }

    /// Runs a blocking closure on the pool's threads with exclusive use of the connection.
    func run<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try state.withLock { s in
            if s.ended { throw PGError(.misuse, "connection used after its withConnection/withTransaction closure returned") }
            if s.busy { throw PGError(.misuse, "one connection used by two tasks at once") }
            s.busy = true
        }
        defer { state.withLock { $0.busy = false } }
        let connection = self.connection
        return try await threads.runIfActive { try body(connection) }
    }

    /// Refuses further calls, and waits for a call still in flight (one started by a task the
    /// closure spawned and did not await) so the connection is never handed on while in use.
    func end() async {
        while state.withLock({ s -> Bool in
            s.ended = true
            return s.busy
        }) {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}

extension PGLease {
    /// Runs a transaction on this leased connection (e.g. while holding a session-level
    /// advisory lock on it); same semantics as `PGPool.withTransaction`.
    @discardableResult
    public func withTransaction<T>(
        isolation: PGIsolationLevel = .readCommitted, _ body: (PGTransaction) async throws -> T
    ) async throws -> T {
        try await PGTransaction.run(on: self, isolation: isolation, body)
    }
}
