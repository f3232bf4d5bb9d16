#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One OS thread that owns a pooled connection: it runs the connection's blocking libpq calls
/// and, as a `TaskExecutor`, the async code of whoever holds the connection.
///
/// `PGPool.withConnection` runs its body with this thread as the task's preferred executor
/// (SE-0417), so a transaction's statements, and the flow and hook code between them, run here:
/// a statement is a plain function call on the thread that already holds the connection, with
/// no thread switch, while the cooperative pool never blocks on libpq. A caller on another
/// thread (a child task, an actor) hops here and back.
///
/// Work submitted with `run` always runs, even for a cancelled task: a statement that has to
/// happen (ROLLBACK, a lease given back, an advisory lock released) is never skipped.
final class PGThread: TaskExecutor, @unchecked Sendable {
    private enum Work {
        case job(UnownedJob)
        case block(@Sendable () -> Void)
    }

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Work] = []
    private var stopping = false
    private var exited = false

    /// Marks the thread a `PGThread` runs on (its value: that `PGThread`), so `isCurrent` is one
    /// thread-local read.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Its place in the pool: the home index of the connection living on it.
    let index: Int

    init(name: String, index: Int = 0) {
        self.index = index
        _ = Self.key
        let thread = Thread { [self] in self.main() }
        thread.name = name
        thread.start()
    }

    /// True on this thread.
    var isCurrent: Bool {
        pthread_getspecific(Self.key) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Runs a blocking closure on this thread (directly when already on it) and returns its
    /// result. Never skipped, cancelled task or not.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if isCurrent { return try body() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit(.block { continuation.resume(with: Result(catching: body)) })
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        submit(.job(UnownedJob(job)))
    }

    /// Lets the thread end once its queue is empty. Work arriving later still runs (see `submit`).
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func submit(_ work: Work) {
        condition.lock()
        guard !exited else {
            condition.unlock()
            // A stopped pool's thread: nothing may be dropped, and blocking work must not land
            // on the caller's thread (it may be the cooperative pool).
            switch work {
            case .job(let job): globalConcurrentExecutor.enqueue(ExecutorJob(job))
            case .block(let body): Thread { body() }.start()
            }
            return
        }
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    private func main() {
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
        let executor = asUnownedTaskExecutor()
        var batch: [Work] = []
        while true {
            condition.lock()
            while queue.isEmpty, !stopping { condition.wait() }
            if queue.isEmpty {
                exited = true
                condition.unlock()
                return
            }
            swap(&batch, &queue)
            condition.unlock()
            for work in batch {
                switch work {
                case .job(let job): job.runSynchronously(on: executor)
                case .block(let body): body()
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
