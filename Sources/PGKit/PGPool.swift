import Logging
import ServiceLifecycle
import Synchronization
#if canImport(Dispatch)
import Dispatch
#endif

/// A bounded pool of libpq connections, each living on a thread of its own.
///
/// - at most `size` connections; a task that finds none free parks and is served in arrival
///   order (a task naming an affinity may overtake, boundedly, to meet a home connection, and
///   with `homeWait` set may wait that long for one while another is free: see
///   `PGPoolStateMachine`), or gets `PGError(.acquireTimeout)` after `acquireTimeout`;
/// - an idle connection is probed (a non-blocking `poll` on its socket) before it is handed out,
///   and a broken one is replaced, so a backend killed while idle costs no failed query; the
///   first statement of a lease is sent once more on a fresh connection when the old one turns
///   out dead before anything reached the server;
/// - every connection has its own `PGThread`: libpq blocks it, never the cooperative pool, and
///   a `withConnection` body runs there as its preferred executor, so a transaction's
///   statements cost no thread switches.
public final class PGPool: Sendable {
    /// Pool settings.
    public struct Configuration: Sendable {
        public var conninfo: String
        public var size: Int
        public var acquireTimeout: Duration
        /// Statements each connection keeps prepared on the server (0: none; see `PGStatementCache`).
        public var preparedStatements: Int
        /// How long a task naming an affinity waits for one of its home connections while
        /// another is free, before it takes any (zero: it never waits for a home). Only while
        /// fewer of its key's tasks than the key has homes are in flight: a hot key spreads.
        public var homeWait: Duration
        /// How long a connection serves before it is replaced, at its next lease and only once
        /// its successor is open (nil: for as long as it works). Each connection's term is
        /// 90–100 % of this, drawn when it opens, so a pool's connections do not all reconnect
        /// at once. A server process keeps the caches of every tenant it touched for its whole
        /// life: this bounds how long, for connections in use.
        public var maxConnectionAge: Duration?
        public init(
            conninfo: String, size: Int = 8, acquireTimeout: Duration = .seconds(10), preparedStatements: Int = 256,
            homeWait: Duration = .zero, maxConnectionAge: Duration? = nil
        ) {
            self.conninfo = conninfo
            self.size = max(1, size)
            self.acquireTimeout = acquireTimeout
            self.preparedStatements = max(0, preparedStatements)
            self.homeWait = max(.zero, homeWait)
            self.maxConnectionAge = maxConnectionAge.map { max(.zero, $0) }
        }
    }

    typealias Machine = PGPoolStateMachine<PGSlot>
    typealias Grant = Machine.Grant

    struct State: ~Copyable {
        var machine: Machine
        var continuations: [Int: CheckedContinuation<Grant, any Error>] = [:]
        var nextWaiterID = 0
        /// Threads not yet given to a slot (one per slot the pool may still open).
        var freeThreads: [PGThread]
        /// Tasks acquiring or holding a connection, per affinity key.
        var inFlight: [String: Int] = [:]
    }

    public let configuration: Configuration
    /// What the pool and its connections' statement caches did so far.
    public let statistics = PGPoolStatistics()
    let logger: Logger
    private let state: Mutex<State>

    /// Creates the pool and its threads; connections are opened lazily.
    public init(_ configuration: Configuration, logger: Logger = Logger(label: "authd.pg")) {
        self.configuration = configuration
        self.logger = logger
        let threads = (0..<configuration.size).map { PGThread(name: "authd-pg-\($0)", index: $0) }
        self.state = Mutex(State(machine: Machine(capacity: configuration.size) { $0.thread.index }, freeThreads: threads))
    }

    /// Runs `body` with a connection leased for its whole duration, on the connection's thread.
    /// `ignoringCancellation`: wait for a connection even if the task is cancelled — for cleanup
    /// that must happen (giving work back, releasing a lock); statements themselves always run.
    /// `affinity`: a key (a tenant's schema) whose work should keep meeting the same two
    /// connections when it can (see `homes(for:)`, `PGPoolStateMachine`), so those server
    /// processes' plans and relation caches for it are reused; it makes the caller wait while
    /// another connection is free for at most `Configuration.homeWait`, and only while fewer of
    /// the key's tasks than it has homes are in flight.
    public func withConnection<T>(
        ignoringCancellation: Bool = false, affinity: String? = nil, _ body: (PGLease) async throws -> T
    ) async throws -> T {
        let homes = affinity.map(homes(for:)) ?? []
        // Tasks per key are counted only when the count decides something (a home wait is set).
        let counted = configuration.homeWait > .zero ? affinity : nil
        let waitForHome = counted.map { beginAffinity($0, homes: homes.count) } ?? false
        defer { if let counted { endAffinity(counted) } }
        let slot = try await acquire(ignoringCancellation: ignoringCancellation, homes: homes, waitForHome: waitForHome)
        if !homes.isEmpty { statistics.countLease(home: homes.contains(slot.thread.index)) }
        let lease = PGLease(slot: slot)
        let outcome: Result<T, any Error> = await withTaskExecutorPreference(slot.thread) {
            do {
                let value = try await body(lease)
                await lease.end()
                return .success(value)
            } catch {
                await lease.end()
                return .failure(error)
            }
        }
        release(slot)
        return try outcome.get()
    }

    /// Runs one autocommit statement on any free connection.
    @discardableResult
    public func query(_ sql: String, _ binds: [any PGEncodable] = []) async throws -> PGRows {
        try await withConnection { try await $0.query(sql, binds) }
    }

    /// Runs one autocommit statement, never prepared (see `PGQueryable.queryUnprepared`).
    @discardableResult
    public func queryUnprepared(_ sql: String, _ binds: [any PGEncodable] = []) async throws -> PGRows {
        try await withConnection { try await $0.queryUnprepared(sql, binds) }
    }

    /// Runs one autocommit statement even if the task is cancelled (cleanup).
    @discardableResult
    public func queryIgnoringCancellation(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        try await withConnection(ignoringCancellation: true) { try await $0.query(sql, binds) }
    }

    /// Runs `body` inside `BEGIN … COMMIT` on one connection; see `PGTransaction`.
    ///
    /// Any error thrown by `body` rolls the transaction back and is rethrown. A `COMMIT` that the
    /// server answers with `ROLLBACK` (an earlier statement failed and the error was swallowed)
    /// throws `PGError(.commitRolledBack)`. `afterCommit` actions run only after a real COMMIT.
    /// `searchPath`: the transaction's only schema (transaction-local, quoted by libpq).
    @discardableResult
    public func withTransaction<T>(
        isolation: PGIsolationLevel = .readCommitted,
        searchPath: String? = nil,
        readOnly: Bool = false,
        _ body: (PGTransaction) async throws -> T
    ) async throws -> T {
        try await withTransaction(PGTransactionOptions(isolation: isolation, searchPath: searchPath, readOnly: readOnly), body)
    }

    /// Runs `body` inside a transaction started with `options`; see `withTransaction`.
    @discardableResult
    public func withTransaction<T>(_ options: PGTransactionOptions, _ body: (PGTransaction) async throws -> T) async throws -> T {
        try await withConnection(affinity: options.searchPath) { lease in try await PGTransaction.run(on: lease, options, body) }
    }

    /// Closes idle connections, fails waiters and stops the threads of idle and unused slots.
    /// Leased connections are closed, and their threads stopped, when they come back.
    public func shutdown() async {
        let (idle, waiters, threads) = state.withLock { s in
            let (idle, ids) = s.machine.shutDown()
            let conts = ids.compactMap { s.continuations.removeValue(forKey: $0) }
            defer { s.freeThreads = [] }
            return (idle, conts, s.freeThreads)
        }
        for waiter in waiters { waiter.resume(throwing: PGError(.shutDown, "pool is shut down")) }
        // Dropping an idle slot closes its connection (deinit); its thread ends once idle.
        for slot in idle { slot.thread.stop() }
        for thread in threads { thread.stop() }
    }

    // MARK: - acquire / release

    func acquire(ignoringCancellation: Bool = false, homes: [Int] = [], waitForHome: Bool = false) async throws -> PGSlot {
        let id = state.withLock { s in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let grant = try await waitForGrant(id: id, homes: homes, waitForHome: waitForHome, ignoringCancellation: ignoringCancellation)
        return try await slot(from: grant, homes: homes)
    }

    /// Counts a task for `key` in; true when it should wait for a home (fewer of the key's tasks
    /// than it has homes are in flight). A key busy enough to fill its homes — one hot tenant —
    /// spreads over the pool instead of queueing for two connections.
    private func beginAffinity(_ key: String, homes: Int) -> Bool {
        state.withLock { s in
            let before = s.inFlight[key, default: 0]
            s.inFlight[key] = before + 1
            return before < homes
        }
    }

    private func endAffinity(_ key: String) {
        state.withLock { s in
            let after = s.inFlight[key, default: 1] - 1
            s.inFlight[key] = after > 0 ? after : nil
        }
    }

    /// Tasks of `key` acquiring or holding a connection (counted only with a home wait).
    func inFlight(_ key: String) -> Int {
        state.withLock { $0.inFlight[key, default: 0] }
    }

    /// The two slot indexes `key` calls home (one in a pool of one), from FNV-1a of its bytes
    /// (stable, unlike `hashValue`, so tests can reason about it). Two rather than one: when
    /// every connection is busy, a returning one finds a waiter calling it home far more often,
    /// so a key's work stays on two server processes instead of spreading over all of them;
    /// each process then caches plans and relations for about 2/size of the keys.
    func homes(for key: String) -> [Int] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let size = UInt64(configuration.size)
        let first = hash % size
        guard size > 1 else { return [Int(first)] }
        let second = (first + 1 + (hash / size) % (size - 1)) % size
        return [Int(first), Int(second)]
    }

    func release(_ slot: PGSlot) {
        // A connection left inside a transaction block (or a pipeline) is never reused as it is:
        // its state is unknown. The slot keeps its thread and opens a new connection for its
        // next holder.
        if !slot.connection.isClean { slot.mustReconnect = true }
        let close = resumeWaiter { $0.machine.release(slot, broken: false) }
        close?.thread.stop()
    }

    /// Applies a state change and, in the same critical section, takes the continuation of the
    /// waiter it serves, so a waiter is resumed exactly once even if it is cancelled meanwhile.
    /// Returns a slot to close (the pool shut down while it was leased).
    @discardableResult
    private func resumeWaiter(_ change: (inout State) -> Machine.ReleaseAction) -> PGSlot? {
        let (served, close): ((CheckedContinuation<Grant, any Error>, Grant)?, PGSlot?) = state.withLock { s in
            switch change(&s) {
            case .resume(let waiter, let grant):
                guard let continuation = s.continuations.removeValue(forKey: waiter) else { return (nil, nil) }
                return ((continuation, grant), nil)
            case .close(let slot): return (nil, slot)
            case .none: return (nil, nil)
            }
        }
        if let (continuation, grant) = served { continuation.resume(returning: grant) }
        return close
    }

    /// Turns a grant into a usable slot: an idle one is checked (and its connection replaced if
    /// it broke), a free place gets a thread and a new connection.
    private func slot(from grant: Grant, homes: [Int]) async throws -> PGSlot {
        switch grant {
        case .connection(let slot):
            do {
                try await slot.thread.run { try slot.prepareForLease() }
                return slot
            } catch {
                // The database is unreachable: the slot goes back (it reconnects next time).
                slot.mustReconnect = true
                release(slot)
                throw error
            }
        case .open:
            // The new connection lives on one of the caller's home threads when one is free.
            let thread = state.withLock { s -> PGThread? in
                if let i = s.freeThreads.firstIndex(where: { homes.contains($0.index) }) { return s.freeThreads.remove(at: i) }
                return s.freeThreads.popLast()
            }
            guard let thread else {
                // Cannot happen: a slot in use holds a thread, and there are `size` of each.
                resumeWaiter { $0.machine.slotFreed() }
                throw PGError(.misuse, "pool has no thread for a new connection")
            }
            do {
                let (conninfo, prepared, statistics) = (configuration.conninfo, configuration.preparedStatements, statistics)
                let maxAge = configuration.maxConnectionAge
                return try await thread.run {
                    try PGSlot(thread: thread, maxAge: maxAge, statistics: statistics) {
                        try PGConnection(conninfo: conninfo, preparedStatements: prepared, statistics: statistics)
                    }
                }
            } catch {
                var stop = false
                resumeWaiter { s in
                    // After shutdown nobody will take the thread again: it ends instead.
                    if s.machine.isShutDown { stop = true } else { s.freeThreads.append(thread) }
                    return s.machine.slotFreed()
                }
                if stop { thread.stop() }
                throw error
            }
        }
    }

    private func waitForGrant(id: Int, homes: [Int], waitForHome: Bool, ignoringCancellation: Bool) async throws -> Grant {
        let homeFirst = waitForHome && !homes.isEmpty
        let start = ContinuousClock.now
        let acquireTimeout = configuration.acquireTimeout
        // Fast path: no parking, no timer.
        let immediate: Grant? = try state.withLock { s in
            if s.machine.isShutDown { throw PGError(.shutDown, "pool is shut down") }
            return s.machine.acquireWithoutWaiting(homes: homes, strict: homeFirst)
        }
        if let immediate { return immediate }
        var id = id
        if homeFirst {
            do {
                let wait = min(configuration.homeWait, acquireTimeout)
                return try await park(id: id, homes: homes, strict: true, timeout: wait, ignoringCancellation: ignoringCancellation)
            } catch is HomeWaitElapsed {
                // No home came back in time: wait for any connection, as a new (youngest)
                // waiter, within what is left of the acquire timeout.
                id = state.withLock { s in
                    s.nextWaiterID += 1
                    return s.nextWaiterID
                }
            }
        }
        let left = max(acquireTimeout - (ContinuousClock.now - start), .milliseconds(1))
        return try await park(id: id, homes: homes, strict: false, timeout: left, ignoringCancellation: ignoringCancellation)
    }

    /// A strict waiter's time for a home ran out.
    private struct HomeWaitElapsed: Error {}

    /// Parks (see `park(id:homes:strict:timeout:honourCancellation:)`), honouring cancellation unless told not to.
    private func park(id: Int, homes: [Int], strict: Bool, timeout: Duration, ignoringCancellation: Bool) async throws -> Grant {
        if ignoringCancellation { return try await park(id: id, homes: homes, strict: strict, timeout: timeout, honourCancellation: false) }
        return try await withTaskCancellationHandler {
            try await park(id: id, homes: homes, strict: strict, timeout: timeout, honourCancellation: true)
        } onCancel: {
            abandon(waiter: id, with: CancellationError())
        }
    }

    /// Parks until a release serves this waiter, `timeout` passes (a `strict` waiter then gets
    /// `HomeWaitElapsed`, anyone else `.acquireTimeout`), or (when honoured) the task is
    /// cancelled. Whichever comes first removes the waiter under the lock and resumes it, so it
    /// is resumed exactly once and no grant is ever lost.
    private func park(id: Int, homes: [Int], strict: Bool, timeout: Duration, honourCancellation: Bool) async throws -> Grant {
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
            let action: Machine.AcquireAction = state.withLock { s in
                if honourCancellation, Task.isCancelled { return .shutDown }
                let action = s.machine.acquire(waiter: id, homes: homes, strict: strict)
                if case .wait = action { s.continuations[id] = continuation }
                return action
            }
            switch action {
            case .grant(let g): continuation.resume(returning: g)
            case .shutDown:
                let cancelled = honourCancellation && Task.isCancelled
                continuation.resume(throwing: cancelled ? CancellationError() : PGError(.shutDown, "pool is shut down"))
            case .wait:
                // A dispatch timer rather than a sleeping child task: parking stays cheap.
                let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
                let error: any Error =
                    strict ? HomeWaitElapsed() : PGError(.acquireTimeout, "no database connection free within \(configuration.acquireTimeout)")
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanos))) { [weak self] in
                    self?.abandon(waiter: id, with: error)
                }
            }
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
