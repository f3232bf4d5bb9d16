/// The pool's bookkeeping, with no I/O, so its waiter logic can be tested without a database.
///
/// It counts slots, not connection objects: a slot is an idle connection, a leased one, or one
/// being opened. Waiters are served in arrival order, but for affinity (below). When a slot
/// frees up and someone waits, the waiter is either handed the connection or told to open a new
/// one itself (after a broken connection was dropped), so the releasing task never does I/O for
/// someone else.
///
/// Affinity: a task may name its homes (slot indexes, see `homeOf`). It gets an idle home
/// connection first, and a connection coming back goes to the oldest waiter that calls it home
/// before the oldest waiter. Work for one tenant thus keeps meeting the same few server
/// processes, whose caches (plans, relations) already hold that tenant. A task waits for a home
/// while another connection is free only if it asks to (`strict`: it then takes nothing but a
/// home or a new connection; the pool bounds that wait in time). Overtaking is bounded: once the
/// oldest waiter that would take a returning connection has been passed over `capacity` times in
/// a row, it gets the next one it takes (serving a strict waiter ahead of it starts the count
/// again), so a waiter without homes, or whose homes are held by long transactions, is never
/// starved.
///
/// Invariant: no parked waiter wants an idle connection (a waiter parks only when none it would
/// take is idle, and a returning connection goes idle only when no waiter takes it), so a
/// newcomer taking an idle connection never overtakes anyone.
public struct PGPoolStateMachine<Connection> {
    /// What a waiter (or an immediate acquire) is granted.
    public enum Grant {
        /// Use this idle connection.
        case connection(Connection)
        /// A slot is reserved for you: open a new connection in it.
        case open
    }

    public enum AcquireAction {
        case grant(Grant)
        /// Park until `release` or `slotFreed` names this waiter.
        case wait
        /// The pool is shut down.
        case shutDown
    }

    public enum ReleaseAction {
        /// Resume this waiter with this grant.
        case resume(waiter: Int, Grant)
        /// Nothing to do: the connection went back to the idle list, or a broken one was dropped.
        case none
        /// Close this connection: the pool is shutting down.
        case close(Connection)
    }

    public let capacity: Int
    public private(set) var idle: [Connection] = []
    /// Idle + leased + opening.
    public private(set) var slotsInUse = 0
    public private(set) var waiters: [Int] = []
    public private(set) var isShutDown = false
    /// The homes a parked waiter asked for.
    private var homes: [Int: [Int]] = [:]
    /// Parked waiters that take only a home (or a new connection).
    private var strict: Set<Int> = []
    /// How often the oldest waiter has been overtaken by one calling a returning connection home.
    private var headOvertaken = 0
    /// Which home a connection is (its slot's index).
    let homeOf: @Sendable (Connection) -> Int

    public init(capacity: Int, homeOf: @escaping @Sendable (Connection) -> Int = { _ in 0 }) {
        precondition(capacity > 0, "pool capacity must be positive")
        self.capacity = capacity
        self.homeOf = homeOf
    }

    /// A task wants a connection. `waiter` identifies it if it has to park; `homes`: the
    /// connections it would rather have; `strict`: it takes only one of those (or a new one).
    public mutating func acquire(waiter: Int, homes wanted: [Int] = [], strict isStrict: Bool = false) -> AcquireAction {
        if isShutDown { return .shutDown }
        if let grant = acquireWithoutWaiting(homes: wanted, strict: isStrict) { return .grant(grant) }
        waiters.append(waiter)
        if !wanted.isEmpty {
            homes[waiter] = wanted
            if isStrict { strict.insert(waiter) }
        }
        return .wait
    }

    /// Grants at once when a connection it would take is idle or a slot is free; never parks.
    /// An idle connection that is one of `homes` comes first, then (unless `strict`) any idle
    /// one, then a new one. A slot is free only while nobody waits (a freed slot goes to the
    /// oldest waiter), and by the invariant no waiter wants an idle connection, so parked
    /// waiters are never overtaken.
    public mutating func acquireWithoutWaiting(homes wanted: [Int] = [], strict isStrict: Bool = false) -> Grant? {
        guard !isShutDown else { return nil }
        if !wanted.isEmpty, let i = idle.lastIndex(where: { wanted.contains(homeOf($0)) }) { return .connection(idle.remove(at: i)) }
        if !(isStrict && !wanted.isEmpty), let connection = idle.popLast() { return .connection(connection) }
        guard waiters.isEmpty, slotsInUse < capacity else { return nil }
        slotsInUse += 1
        return .open
    }

    /// Whether parked `waiter` takes a connection that is home `home`.
    private func takes(_ waiter: Int, home: Int) -> Bool {
        !strict.contains(waiter) || homes[waiter]?.contains(home) == true
    }

    /// The waiter a returning `connection` goes to: the oldest that calls it home, else (or once
    /// the oldest has been overtaken `capacity` times) the oldest that takes it; nil when no
    /// waiter takes it (every waiter is strict and has other homes).
    private mutating func nextWaiter(for connection: Connection) -> Int? {
        let home = homeOf(connection)
        guard let oldest = waiters.firstIndex(where: { takes($0, home: home) }) else { return nil }
        var i = oldest
        if headOvertaken < capacity, let match = waiters.firstIndex(where: { homes[$0]?.contains(home) == true }) { i = match }
        headOvertaken = i == oldest ? 0 : headOvertaken + 1
        let waiter = waiters.remove(at: i)
        homes[waiter] = nil
        strict.remove(waiter)
        return waiter
    }

    /// A leased connection comes back; `broken` when it must not be reused.
    public mutating func release(_ connection: Connection, broken: Bool) -> ReleaseAction {
        if broken { return slotFreed() }
        if isShutDown {
            slotsInUse -= 1
            return .close(connection)
        }
        if let waiter = nextWaiter(for: connection) { return .resume(waiter: waiter, .connection(connection)) }
        idle.append(connection)
        return .none
    }

    /// A slot became empty (a broken connection was dropped, or opening one failed): the oldest
    /// waiter, if any, gets the slot to open a connection in.
    public mutating func slotFreed() -> ReleaseAction {
        if !isShutDown, !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            homes[waiter] = nil
            strict.remove(waiter)
            headOvertaken = 0
            return .resume(waiter: waiter, .open)
        }
        slotsInUse -= 1
        return .none
    }

    /// A parked waiter gave up (timeout or cancellation). False when it was already served: the
    /// caller then owns whatever grant is on its way and must give it back.
    public mutating func cancel(waiter: Int) -> Bool {
        guard let i = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: i)
        homes[waiter] = nil
        strict.remove(waiter)
        if i == 0 { headOvertaken = 0 }
        return true
    }

    /// Shuts the pool: returns the idle connections to close and the waiters to fail.
    public mutating func shutDown() -> (idle: [Connection], waiters: [Int]) {
        isShutDown = true
        let result = (idle, waiters)
        slotsInUse -= idle.count
        idle = []
        waiters = []
        homes = [:]
        strict = []
        headOvertaken = 0
        return result
    }
}

extension PGPoolStateMachine.Grant: Sendable where Connection: Sendable {}
extension PGPoolStateMachine.AcquireAction: Sendable where Connection: Sendable {}
extension PGPoolStateMachine.ReleaseAction: Sendable where Connection: Sendable {}
