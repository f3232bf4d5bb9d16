import Synchronization
import TestSupport
import Testing
@testable import AuthCore

/// The after-commit queue is a service like any other: cancellation (a sibling service failed,
/// the shutdown deadline passed) must end it. Before, it waited for a job forever and held its
/// service group — the whole process, or a test — hanging.
@Suite struct AfterCommitQueueTests {
    @Test func cancellationEndsTheRun() async throws {
        let queue = AfterCommitQueue()
        let ran = Mutex(0)
        let ended = Mutex(false)
        // Unstructured on purpose: if the run never ended, a task group would hang the test
        // instead of failing it.
        let task = Task {
            try? await queue.run()
            ended.withLock { $0 = true }
        }
        queue.enqueue { ran.withLock { $0 += 1 } }
        let jobRan = try await eventually(timeout: .seconds(5)) { ran.withLock { $0 } == 1 }
        #expect(jobRan)
        task.cancel()
        let returned = try await eventually(timeout: .seconds(5)) { ended.withLock { $0 } }
        #expect(returned, "a cancelled queue returns")
        let accepted = queue.enqueue {}
        #expect(!accepted, "and takes no more jobs")
    }
}
