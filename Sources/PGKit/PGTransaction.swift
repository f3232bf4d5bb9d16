import Synchronization

/// The handle of one open transaction, passed to every store call and every in-transaction hook.
///
/// It is valid only inside its `withTransaction` closure: afterwards every call throws
/// `PGError(.misuse)`. Work registered with `afterCommit` runs once, right after a successful
/// COMMIT, in registration order, and is dropped on rollback.
public final class PGTransaction: PGQueryable {
    /// An action to run after COMMIT. It must not block: enqueue work, don't do it.
    public typealias AfterCommitAction = @Sendable () -> Void

    let lease: PGLease
    private let afterCommitActions = Mutex<[AfterCommitAction]>([])
    /// Set when the closure returned: the handle must not run statements outside its transaction.
    private let closed = Mutex(false)

    init(lease: PGLease) {
        self.lease = lease
    }

    /// The server process id of the transaction's connection.
    public var backendPID: Int32 { lease.backendPID }

    @discardableResult
    public func query(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        try checkOpen()
        return try await lease.query(sql, binds)
    }

    @discardableResult
    public func queryUnprepared(_ sql: String, _ binds: [any PGEncodable]) async throws -> PGRows {
        try checkOpen()
        return try await lease.queryUnprepared(sql, binds)
    }

    /// Runs SQL text that may hold several statements and no parameters (migration files).
    @discardableResult
    public func execute(_ sql: String) async throws -> PGRows {
        try checkOpen()
        return try await lease.execute(sql)
    }

    func checkOpen() throws {
        if closed.withLock({ $0 }) {
            throw PGError(.misuse, "transaction handle used after its withTransaction closure returned")
        }
    }

    /// Quotes an identifier with libpq's escaping.
    public func escapeIdentifier(_ name: String) async throws -> String {
        try await lease.escapeIdentifier(name)
    }

    /// Registers work to run only after this transaction commits.
    public func afterCommit(_ action: @escaping AfterCommitAction) {
        afterCommitActions.withLock { $0.append(action) }
    }

    /// BEGIN, body, COMMIT — or ROLLBACK on any error; see `PGPool.withTransaction`.
    static func run<T>(on lease: PGLease, _ options: PGTransactionOptions, _ body: (PGTransaction) async throws -> T) async throws -> T {
        // BEGIN and its options travel in one round trip.
        _ = try await lease.run { conn in
            try conn.execute(try options.beginSQL(on: conn))
            conn.transactionScope = options.searchPath
        }
        let tx = PGTransaction(lease: lease)
        let value: T
        do {
            value = try await body(tx)
            tx.closed.withLock { $0 = true }
        } catch {
            tx.closed.withLock { $0 = true }
            await rollback(lease)
            throw error
        }
        let commit: PGRows
        do {
            commit = try await lease.execute("COMMIT")
        } catch {
            await rollback(lease)
            throw error
        }
        // After an error inside the transaction (e.g. one swallowed with try?), COMMIT succeeds
        // at the protocol level but its command tag is ROLLBACK: nothing was written.
        guard commit.commandStatus == "COMMIT" else {
            throw PGError(
                .commitRolledBack, "transaction was rolled back: COMMIT answered \(commit.commandStatus)",
                sqlState: "25P02")
        }
        for action in tx.afterCommitActions.withLock({ $0 }) { action() }
        return value
    }

    /// Sent even when the task is cancelled (`PGLease.run` never skips work). If the connection
    /// broke, the server has already rolled back, and the pool replaces the connection.
    private static func rollback(_ lease: PGLease) async {
        _ = try? await lease.run { conn in
            guard conn.isOK, conn.inTransaction else { return }
            try conn.execute("ROLLBACK")
        }
    }
}

