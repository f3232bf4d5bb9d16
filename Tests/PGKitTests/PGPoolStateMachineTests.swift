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
}
