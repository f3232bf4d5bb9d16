import Logging
import ServiceLifecycle
import Synchronization

/// Runs fire-and-forget hooks (`session.onCreated` …) after COMMIT, off the request path.
///
/// A bounded in-process queue drained by this `Service`: `enqueue` never blocks and never
/// delays a response; when the queue is full the job is dropped and counted. A job's failure
/// is its own business (the hooks are non-throwing; they log what they need).
public final class AfterCommitQueue: Service, Sendable {
    public typealias Job = @Sendable () async -> Void

    struct State {
        var jobs: [Job] = []
        var head = 0
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var dropped = 0
    }

    public let capacity: Int
    private let state = Mutex(State())
    private let logger: Logger

    public init(capacity: Int = 10_000, logger: Logger = Logger(label: "authd.hooks")) {
        self.capacity = capacity
        self.logger = logger
    }

    /// Jobs dropped because the queue was full.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    /// Queues a job; false (and counted) when the queue is full or shut down.
    @discardableResult
    public func enqueue(_ job: @escaping Job) -> Bool {
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !s.finished, s.jobs.count - s.head < capacity else {
                s.dropped += 1
                return (false, nil)
            }
            s.jobs.append(job)
            defer { s.waiter = nil }
            return (true, s.waiter)
        }
        if !accepted {
            AuthMetrics.afterCommitDropped.increment()
            logger.warning("after-commit hook queue full; hook dropped")
        }
        waiter?.resume()
        return accepted
    }

    /// Drains the queue until graceful shutdown, then runs what is left and returns. Cancellation
    /// (a sibling service failed, or the shutdown deadline passed) ends it the same way: it
    /// must never keep a service group waiting.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while let job = await next() { await job() }
            } onGracefulShutdown: {
                self.finish()
            }
        } onCancel: {
            self.finish()
        }
    }

    /// Stops accepting jobs; `run` returns once the queued ones ran.
    public func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    private func next() async -> Job? {
        while true {
            let job: Job?? = state.withLock { s in
                if s.head < s.jobs.count {
                    let job = s.jobs[s.head]
                    s.head += 1
                    if s.head > 256, s.head * 2 > s.jobs.count {
                        s.jobs.removeFirst(s.head)
                        s.head = 0
                    }
                    return .some(job)
                }
                return s.finished ? .some(nil) : nil
            }
            if let job { return job }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.head < s.jobs.count || s.finished { return true }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        }
    }
}
