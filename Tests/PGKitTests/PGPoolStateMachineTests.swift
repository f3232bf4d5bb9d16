import Testing
@testable import PGKit

/// The pool's waiter logic, without a database.
@Suite struct PGPoolStateMachineTests {
    typealias Machine = PGPoolStateMachine<String>

    func grantedConnection(_ action: Machine.AcquireAction) -> String? {
        if case .grant(.connection(let c)) = action { return c }
        return nil
    }

    @Test func opensUpToCapacityThenParks() {
        var m = Machine(capacity: 2)
        guard case .grant(.open) = m.acquire(waiter: 1), case .grant(.open) = m.acquire(waiter: 2) else {
            Issue.record("first two acquires should open connections")
            return
        }
        guard case .wait = m.acquire(waiter: 3) else {
            Issue.record("third acquire should wait")
            return
        }
        #expect(m.slotsInUse == 2)
        #expect(m.waiters == [3])
    }

    @Test func waitersAreServedInArrivalOrder() {
        var m = Machine(capacity: 1)
        _ = m.acquire(waiter: 0)
        for id in 1...5 { _ = m.acquire(waiter: id) }
        var served: [Int] = []
        for _ in 1...5 {
            guard case .resume(let waiter, .connection("c")) = m.release("c", broken: false) else {
                Issue.record("release should hand the connection to a waiter")
                return
            }
            served.append(waiter)
        }
        #expect(served == [1, 2, 3, 4, 5])
        guard case .none = m.release("c", broken: false) else {
            Issue.record("with nobody waiting the connection goes idle")
            return
        }
        #expect(m.idle == ["c"])
        #expect(grantedConnection(m.acquire(waiter: 9)) == "c")
    }

    @Test func newcomerDoesNotOvertakeParkedWaiters() {
        var m = Machine(capacity: 1)
        _ = m.acquire(waiter: 1)
        _ = m.acquire(waiter: 2)
        #expect(m.acquireWithoutWaiting() == nil)
        guard case .wait = m.acquire(waiter: 3) else {
            Issue.record("newcomer must queue behind waiter 2")
            return
        }
        #expect(m.waiters == [2, 3])
    }

    @Test func brokenConnectionLetsTheOldestWaiterOpenANewOne() {
        var m = Machine(capacity: 1)
        _ = m.acquire(waiter: 1)
        _ = m.acquire(waiter: 2)
        guard case .resume(2, .open) = m.release("dead", broken: true) else {
            Issue.record("waiter 2 should be told to open a connection")
            return
        }
        #expect(m.slotsInUse == 1)
        guard case .none = m.release("fresh", broken: true) else {
            Issue.record("no waiter: the slot is freed")
            return
        }
        #expect(m.slotsInUse == 0)
    }

    @Test func cancelledWaiterIsRemovedAndLateCancelReportsServed() {
        var m = Machine(capacity: 1)
        _ = m.acquire(waiter: 1)
        _ = m.acquire(waiter: 2)
        _ = m.acquire(waiter: 3)
        let removed = m.cancel(waiter: 2)
        #expect(removed)
        guard case .resume(3, _) = m.release("c", broken: false) else {
            Issue.record("waiter 3 is next after 2 left")
            return
        }
        let removedLate = m.cancel(waiter: 3)
        #expect(!removedLate)  // already served: the caller must give the grant back
    }

    @Test func shutdownFailsWaitersAndClosesReturningConnections() {
        var m = Machine(capacity: 2)
        _ = m.acquire(waiter: 1)
        _ = m.acquire(waiter: 2)
        _ = m.release("a", broken: false)
        _ = m.acquire(waiter: 3)  // takes "a"
        _ = m.acquire(waiter: 4)  // parks
        let (idle, waiters) = m.shutDown()
        #expect(idle.isEmpty)
        #expect(waiters == [4])
        guard case .close("a") = m.release("a", broken: false) else {
            Issue.record("a connection returned after shutdown is closed")
            return
        }
        guard case .shutDown = m.acquire(waiter: 5) else {
            Issue.record("acquire after shutdown fails")
            return
        }
    }
    @Test func aTaskMeetsItsHomeConnectionWhenItCan() {
        // Connections named "h0", "h1"…: their home is the digit.
        var m = PGPoolStateMachine<String>(capacity: 3) { Int($0.dropFirst()) ?? -1 }
        for id in 1...3 { _ = m.acquire(waiter: id) }
        for c in ["h0", "h1", "h2"] { _ = m.release(c, broken: false) }
        // Idle: the home one, whatever its place in the list; no home: any.
        #expect(grantedConnection(m.acquire(waiter: 4, homes: [0])) == "h0")
        #expect(grantedConnection(m.acquire(waiter: 5, homes: [0])) != nil)  // h0 is busy: another, no waiting
        #expect(grantedConnection(m.acquire(waiter: 6)) != nil)
        // All busy: a returning connection goes to the oldest waiter calling it home, then to the oldest.
        _ = m.acquire(waiter: 7, homes: [2])
        _ = m.acquire(waiter: 8, homes: [1, 2])
        _ = m.acquire(waiter: 9, homes: [1])
        guard case .resume(8, .connection("h1")) = m.release("h1", broken: false) else {
            Issue.record("h1 goes to the oldest waiter whose home it is")
            return
        }
        guard case .resume(7, .connection("h0")) = m.release("h0", broken: false) else {
            Issue.record("nobody calls h0 home: the oldest waiter gets it")
            return
        }
        guard case .resume(9, .open) = m.slotFreed() else {
            Issue.record("a freed slot goes to the oldest waiter")
            return
        }
        #expect(m.waiters.isEmpty)
    }
    @Test func theOldestWaiterIsOvertakenOnlyCapacityTimes() {
        var m = PGPoolStateMachine<String>(capacity: 2) { Int($0.dropFirst()) ?? -1 }
        _ = m.acquire(waiter: 1)
        _ = m.acquire(waiter: 2)
        _ = m.acquire(waiter: 3)  // no homes: the oldest waiter from here on
        var next = 4
        var served: [Int] = []
        // Every returning connection also has a younger waiter calling it home.
        for _ in 0..<4 {
            _ = m.acquire(waiter: next, homes: [0])
            next += 1
            guard case .resume(let waiter, _) = m.release("h0", broken: false) else {
                Issue.record("a waiter should be served")
                return
            }
            served.append(waiter)
        }
        // Overtaken twice (the capacity), then served.
        #expect(served.prefix(3) == [4, 5, 3])
    }

    @Test func aStrictWaiterTakesOnlyAHomeAndNobodyWaitsForAConnectionNoWaiterWants() {
        var m = PGPoolStateMachine<String>(capacity: 3) { Int($0.dropFirst()) ?? -1 }
        for id in 1...3 { _ = m.acquire(waiter: id) }
        _ = m.release("h2", broken: false)
        // Strict: an idle connection that is not a home is not taken; the task parks.
        let immediate = m.acquireWithoutWaiting(homes: [0, 1], strict: true)
        #expect(immediate == nil)
        guard case .wait = m.acquire(waiter: 4, homes: [0, 1], strict: true) else {
            Issue.record("a strict task parks while its homes are busy")
            return
        }
        // Not wanted by the strict waiter: h2 stays idle, and a newcomer takes it at once.
        let newcomer = m.acquire(waiter: 5)
        #expect(grantedConnection(newcomer) == "h2")
        guard case .none = m.release("h2", broken: false) else {
            Issue.record("no waiter takes h2: it goes idle")
            return
        }
        // A waiter that takes anything gets a returning non-home connection before the older
        // strict waiter; the strict waiter gets its home.
        _ = m.acquire(waiter: 6, homes: [2])
        #expect(m.waiters == [4])  // waiter 6 took the idle h2 (its home) at once
        _ = m.acquire(waiter: 7)
        #expect(m.waiters == [4, 7])
        guard case .resume(7, .connection("h2")) = m.release("h2", broken: false) else {
            Issue.record("h2 goes to the waiter that takes any connection")
            return
        }
        guard case .resume(4, .connection("h1")) = m.release("h1", broken: false) else {
            Issue.record("h1 goes to the strict waiter calling it home")
            return
        }
        #expect(m.waiters.isEmpty)
    }

    @Test func aStrictWaiterGivingUpLeavesNothingBehind() {
        var m = PGPoolStateMachine<String>(capacity: 1) { Int($0.dropFirst()) ?? -1 }
        _ = m.acquire(waiter: 1)  // opens the one connection, "h5"
        _ = m.acquire(waiter: 2, homes: [5], strict: true)
        let cancelled = m.cancel(waiter: 2)
        #expect(cancelled)
        // h5 is waiter 2's home: had it stayed queued, it would be resumed here.
        guard case .none = m.release("h5", broken: false) else {
            Issue.record("nobody waits any more: h5 goes idle")
            return
        }
        guard case .wait = m.acquire(waiter: 3, homes: [7], strict: true) else {
            Issue.record("a strict task whose home is not idle parks")
            return
        }
        #expect(m.waiters == [3])
    }
}
