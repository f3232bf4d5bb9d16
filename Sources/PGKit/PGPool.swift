import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
#if canImport(Dispatch)
import Dispatch
#endif

/// A bounded pool of libpq connections with its own threads for the blocking calls.
///
/// - at most `size` connections; a task that finds none free parks and is served in arrival
///   order, or gets `PGError(.acquireTimeout)` after `acquireTimeout`;
/// - an idle connection is probed (a non-blocking `poll` on its socket) before it is handed out,
///   and a broken one is replaced, so a backend killed while idle costs no failed query;
/// - all libpq calls run on a dedicated `NIOThreadPool` with one thread per connection, never on
///   the cooperative pool (libpq blocks its thread for every round trip).
public final class PGPool: Sendable {
    /// Pool settings.
    public struct Configuration: Sendable {
        public var conninfo: String
        public var size: Int
        public var acquireTimeout: Duration
        /// Statements each connection keeps prepared on the server (0: none; see `PGStatementCache`).
        public var preparedStatements: Int
        public init(conninfo: String, size: Int = 8, acquireTimeout: Duration = .seconds(10), preparedStatements: Int = 256) {
            self.conninfo = conninfo
            self.size = max(1, size)
            self.acquireTimeout = acquireTimeout
            self.preparedStatements = max(0, preparedStatements)
        }
    }

    typealias Machine = PGPoolStateMachine<PGConnection>
    typealias Grant = Machine.Grant

    struct State: ~Copyable {
        var machine: Machine
        var continuations: [Int: CheckedContinuation<Grant, any Error>] = [:]
        var nextWaiterID = 0
    }

    public let configuration: Configuration
    let threads: NIOThreadPool
    let logger: Logger
    private let state: Mutex<State>

    /// Creates the pool and starts its threads; connections are opened lazily.
    public init(_ configuration: Configuration, logger: Logger = Logger(label: "authd.pg")) {
        self.configuration = configuration
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: configuration.size)
        self.threads.start()
        self.state = Mutex(State(machine: Machine(capacity: configuration.size)))
    }

    /// Runs `body` with a connection leased for its whole duration.
    public func withConnection<T>(_ body: (PGLease) async throws -> T) async throws -> T {
        let connection = try await acquire()
        let lease = PGLease(connection: connection, threads: threads)
        do {
            let value = try await body(lease)
            await lease.end()
            release(connection)
            return value
        } catch {
            await lease.end()
            release(connection)
            throw error
        }
    }

    /// Runs one autocommit statement on any free connection.
    @discardableResult
    public func query(_ sql: String, _ binds: [any PGEncodable] = []) async throws -> PGRows {
        try await withConnection { try await $0.query(sql, binds) }
    }

    /// Runs `body` inside `BEGIN … COMMIT` on one connection; see `PGTransaction`.
    ///
    /// Any error thrown by `body` rolls the transaction back and is rethrown. A `COMMIT` that the
    /// server answers with `ROLLBACK` (an earlier statement failed and the error was swallowed)
    /// throws `PGError(.commitRolledBack)`. `afterCommit` actions run only after a real COMMIT.
    @discardableResult
    public func withTransaction<T>(
        isolation: PGIsolationLevel = .readCommitted,
        searchPath: String? = nil,
        _ body: (PGTransaction) async throws -> T
    ) async throws -> T {
        try await withConnection { lease in
            try await PGTransaction.run(on: lease, isolation: isolation, searchPath: searchPath, body)
        }
    }

    /// A short read-only transaction run entirely on one pool thread (see
    /// `withBlockingTransaction`). For hot read paths such as the guard.
    public func withBlockingReadTransaction<T: Sendable>(
        searchPath: String? = nil, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await withBlockingTransaction(searchPath: searchPath, readOnly: true, body)
    }

    /// A transaction run entirely on one pool thread: BEGIN (with the optional transaction-local
    /// search path), `body`, COMMIT — one hop instead of one per statement, so a hot path's
    /// transaction is not stretched by scheduling between its statements. `body` must only run
    /// statements on the connection (and CPU work); it must not block on anything else. The
    /// COMMIT-answers-ROLLBACK case throws as in `withTransaction`.
    public func withBlockingTransaction<T: Sendable>(
        searchPath: String? = nil, readOnly: Bool = false, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await withConnection { lease in
            try await lease.run { conn in
                try conn.execute(try PGTransaction.begin(.readCommitted, searchPath: searchPath, readOnly: readOnly, on: conn))
                let value: T
                do {
                    value = try body(conn)
                } catch {
                    if conn.isOK { _ = try? conn.execute("ROLLBACK") }
                    throw error
                }
                let commit = try conn.execute("COMMIT")
                guard commit.commandStatus == "COMMIT" else {
                    throw PGError(.commitRolledBack, "transaction was rolled back: COMMIT answered \(commit.commandStatus)", sqlState: "25P02")
                }
                return value
            }
        }
    }

    /// Runs `body` on one pool thread with a connection outside any transaction: for autocommit
    /// statements (each its own transaction) on a hot path, in one hop. `body` must leave the
    /// connection outside a transaction and must not block on anything but its statements.
    public func withBlockingConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withConnection { lease in
            try await lease.run { conn in
                defer { if conn.isOK, conn.inTransaction { _ = try? conn.execute("ROLLBACK") } }
                return try body(conn)
            }
        }
    }

    /// Closes idle connections, fails waiters and stops the threads. Leased connections are
    /// closed when they come back.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { s in
            let (idle, ids) = s.machine.shutDown()
            let conts = ids.compactMap { s.continuations.removeValue(forKey: $0) }
            return (idle, conts)
        }
        for waiter in waiters { waiter.resume(throwing: PGError(.shutDown, "pool is shut down")) }
        _ = idle  // dropped here: deinit closes them
        try? await threads.shutdownGracefully()
    }

    // MARK: - acquire / release

    func acquire() async throws -> PGConnection {
        let id = state.withLock { s in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let grant = try await waitForGrant(id: id)
        return try await connection(from: grant)
    }

    func release(_ connection: PGConnection) {
        // A connection left inside a transaction block is never reused: its state is unknown.
        let broken = !connection.isOK || connection.inTransaction
        resumeWaiter { $0.release(connection, broken: broken) }
    }

    /// Applies a state change and, in the same critical section, takes the continuation of the
    /// waiter it serves, so a waiter is resumed exactly once even if it is cancelled meanwhile.
    private func resumeWaiter(_ change: (inout Machine) -> Machine.ReleaseAction) {
        let served: (CheckedContinuation<Grant, any Error>, Grant)? = state.withLock { s in
            guard case .resume(let waiter, let grant) = change(&s.machine) else { return nil }
            guard let continuation = s.continuations.removeValue(forKey: waiter) else { return nil }
            return (continuation, grant)
        }
        // .close and dropped broken connections are finished by PGConnection's deinit.
        if let (continuation, grant) = served { continuation.resume(returning: grant) }
    }

    /// Turns a grant into a usable connection: probes an idle one, opens one in a free slot.
    private func connection(from grant: Grant) async throws -> PGConnection {
        if case .connection(let c) = grant, c.probeAlive() { return c }
        if case .connection = grant { logger.debug("replacing a broken pooled connection") }
        do {
            let (conninfo, prepared) = (configuration.conninfo, configuration.preparedStatements)
            return try await threads.runIfActive { try PGConnection(conninfo: conninfo, preparedStatements: prepared) }
        } catch {
            resumeWaiter { $0.slotFreed() }
            throw error
        }
    }

    private func waitForGrant(id: Int) async throws -> Grant {
        // Fast path: no parking, no timer.
        let immediate: Grant? = try state.withLock { s in
            if s.machine.isShutDown { throw PGError(.shutDown, "pool is shut down") }
            return s.machine.acquireWithoutWaiting()
        }
        if let immediate { return immediate }
        return try await park(id: id)
    }

    /// Parks until a release serves this waiter, the acquire timeout passes, or the task is
    /// cancelled. Whichever comes first removes the waiter under the lock and resumes it, so it
    /// is resumed exactly once and no grant is ever lost.
    private func park(id: Int) async throws -> Grant {
        let timeout = configuration.acquireTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let action: Machine.AcquireAction = state.withLock { s in
                    if Task.isCancelled { return .shutDown }
                    let action = s.machine.acquire(waiter: id)
                    if case .wait = action { s.continuations[id] = continuation }
                    return action
                }
                switch action {
                case .grant(let g): continuation.resume(returning: g)
                case .shutDown:
                    continuation.resume(throwing: Task.isCancelled ? CancellationError() : PGError(.shutDown, "pool is shut down"))
                case .wait:
                    // A dispatch timer rather than a sleeping child task: parking stays cheap.
                    let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
                    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanos))) { [weak self] in
                        self?.abandon(waiter: id, with: PGError(.acquireTimeout, "no database connection free within \(timeout)"))
                    }
                }
            }
        } onCancel: {
            abandon(waiter: id, with: CancellationError())
        }
    }

    /// Fails a parked waiter if it is still waiting; does nothing if it was served meanwhile.
    private func abandon(waiter id: Int, with error: any Error) {
        let continuation = state.withLock { s in
            s.machine.cancel(waiter: id) ? s.continuations.removeValue(forKey: id) : nil
        }
        continuation?.resume(throwing: error)
    }
}

extension PGPool: Service {
    /// Keeps the pool open until graceful shutdown, then closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
