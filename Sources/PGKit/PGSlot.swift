/// One place in a pool: a connection and the thread it lives on for the pool's lifetime.
///
/// Used by one holder at a time (an idle slot by nobody, a leased one by its `PGLease`), and its
/// connection is touched only on its thread, which is what makes `@unchecked Sendable` safe.
/// The connection is replaced in place when it broke: the thread, and the slot, stay.
final class PGSlot: @unchecked Sendable {
    let thread: PGThread
    private(set) var connection: PGConnection
    /// Set when the connection was given back in an unknown state (still inside a transaction):
    /// the next holder opens a new one instead.
    var mustReconnect = false
    private let open: @Sendable () throws -> PGConnection

    /// Opens the first connection; call on `thread`.
    init(thread: PGThread, open: @escaping @Sendable () throws -> PGConnection) throws {
        self.thread = thread
        self.open = open
        self.connection = try open()
    }

    /// Replaces the connection by a new one; call on `thread`.
    func reconnect() throws {
        connection = try open()
        mustReconnect = false
    }

    /// Makes the connection usable before it is handed out: a connection given back in an
    /// unknown state, or closed by the server while idle, is replaced. Call on `thread`.
    func prepareForLease() throws {
        if mustReconnect || !connection.probeAlive() { try reconnect() }
    }

    /// Runs `body` on the connection; call on `thread`. When `mayRetry` (nothing ran on this
    /// lease before) and `body` failed with a statement that never ran while nothing at all
    /// reached the server — the connection had died before it was used — the body runs once
    /// more on a fresh connection. Anything that may have run is never repeated.
    func run<T>(_ body: (PGConnection) throws -> T, mayRetry: Bool) throws -> T {
        let answered = connection.answered
        do {
            return try body(connection)
        } catch let error as PGError where mayRetry && error.notExecuted && error.kind == .connection
            && connection.answered == answered
        {
            try reconnect()
            return try body(connection)
        }
    }
}
