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
    private let maxAge: Duration?
    private let statistics: PGPoolStatistics?
    /// When the connection has served its term (`maxAge`, less up to 10 %); nil: never.
    private var retiresAt: ContinuousClock.Instant?

    /// Opens the first connection; call on `thread`.
    init(
        thread: PGThread, maxAge: Duration? = nil, statistics: PGPoolStatistics? = nil,
        open: @escaping @Sendable () throws -> PGConnection
    ) throws {
        self.thread = thread
        self.open = open
        self.maxAge = maxAge
        self.statistics = statistics
        self.connection = try open()
        retiresAt = Self.term(maxAge)
    }

    /// The end of a new connection's term: 90–100 % of `maxAge` from now.
    private static func term(_ maxAge: Duration?) -> ContinuousClock.Instant? {
        maxAge.map { .now + $0 * Double.random(in: 0.9...1.0) }
    }

    /// Replaces the connection by a new one; call on `thread`.
    func reconnect() throws {
        connection = try open()
        mustReconnect = false
        retiresAt = Self.term(maxAge)
    }

    /// Makes the connection usable before it is handed out: a connection given back in an
    /// unknown state, closed by the server while idle, or past its term, is replaced. Call on
    /// `thread`.
    func prepareForLease() throws {
        if let retiresAt, retiresAt <= .now, !mustReconnect, connection.probeAlive() {
            // A working connection is replaced only once its successor is open: a server that
            // is full or unreachable just now must not fail a lease the old one can serve.
            if let successor = try? open() {
                connection = successor
                self.retiresAt = Self.term(maxAge)
                statistics?.countRetired()
            } else {
                self.retiresAt = .now + Self.retryAfterFailedRetirement
            }
            return
        }
        if mustReconnect || !connection.probeAlive() { try reconnect() }
    }

    /// How long a connection whose successor could not be opened serves before the next try.
    static let retryAfterFailedRetirement: Duration = .seconds(30)

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
