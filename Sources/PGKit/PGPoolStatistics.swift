import Synchronization

/// Counters a pool keeps about itself, for metrics and benchmarks: how often a task with an
/// affinity met one of its home connections, and how its connections sent each statement run
/// with parameters (`PGConnection.query`; counted as sent, so a statement retried on a fresh
/// connection counts twice, and one whose PREPARE failed counts nowhere; `execute`'s migration
/// and session text is not counted). Shared by the
/// pool and its connections (each counter is an atomic: connections count from their threads).
public final class PGPoolStatistics: Sendable {
    /// The counters at one moment; each only grows.
    public struct Snapshot: Sendable, Equatable {
        /// Leases of a task naming an affinity that got one of its home connections.
        public var homeHits = 0
        /// Leases of a task naming an affinity that got another connection.
        public var homeMisses = 0
        /// Statements run as already prepared on the server (no parse, no plan).
        public var statementsReused = 0
        /// Statements prepared on the server (then run).
        public var statementsPrepared = 0
        /// Statements run unnamed (parsed and planned for that run only).
        public var statementsUnnamed = 0
        /// Prepared statements deallocated to make room or because they went stale.
        public var statementsDeallocated = 0
        /// Connections replaced because they had served `maxConnectionAge`.
        public var connectionsRetired = 0

        /// All zero.
        public init() {}
    }

    private let homeHits = Atomic<Int>(0)
    private let homeMisses = Atomic<Int>(0)
    private let statementsReused = Atomic<Int>(0)
    private let statementsPrepared = Atomic<Int>(0)
    private let statementsUnnamed = Atomic<Int>(0)
    private let statementsDeallocated = Atomic<Int>(0)
    private let connectionsRetired = Atomic<Int>(0)

    /// All zero.
    public init() {}

    /// The counters now (each read on its own: a snapshot taken under load may mix moments).
    public var snapshot: Snapshot {
        var s = Snapshot()
        s.homeHits = homeHits.load(ordering: .relaxed)
        s.homeMisses = homeMisses.load(ordering: .relaxed)
        s.statementsReused = statementsReused.load(ordering: .relaxed)
        s.statementsPrepared = statementsPrepared.load(ordering: .relaxed)
        s.statementsUnnamed = statementsUnnamed.load(ordering: .relaxed)
        s.statementsDeallocated = statementsDeallocated.load(ordering: .relaxed)
        s.connectionsRetired = connectionsRetired.load(ordering: .relaxed)
        return s
    }

    func countLease(home: Bool) {
        if home { homeHits.add(1, ordering: .relaxed) } else { homeMisses.add(1, ordering: .relaxed) }
    }

    func countReused() { statementsReused.add(1, ordering: .relaxed) }
    func countPrepared() { statementsPrepared.add(1, ordering: .relaxed) }
    func countUnnamed() { statementsUnnamed.add(1, ordering: .relaxed) }
    func countDeallocated() { statementsDeallocated.add(1, ordering: .relaxed) }
    func countRetired() { connectionsRetired.add(1, ordering: .relaxed) }
}
