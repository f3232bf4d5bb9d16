#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import PGKit
import ServiceLifecycle
import Synchronization

/// A consumer-group worker for a process other than `authd serve` (DESIGN.md §5): at-least-once
/// delivery of the subscribed events to `handler`, catching up from where the group left off.
///
/// It wakes on `NOTIFY auth_events` (through a shared `PGListener`) and also polls, so an event
/// whose NOTIFY was lost (crash between COMMIT and NOTIFY, listener reconnecting) is only
/// delayed. Several processes may run the same group: they share the work through leases, a
/// lease is renewed while the handler runs, and a result counts only while the lease is held.
public final class EventConsumer: Service, Sendable {
    public struct Options: Sendable {
        public var subscriptions: [String]
        public var start: ConsumerGroupStore.Start
        public var batchSize: Int
        public var lease: Duration
        public var pollInterval: Duration
        public var maxAttempts: Int
        public var baseBackoff: Duration
        public var maxBackoff: Duration

        public init(
            subscriptions: [String] = ["*"], start: ConsumerGroupStore.Start = .now, batchSize: Int = 100,
            lease: Duration = .seconds(30), pollInterval: Duration = .milliseconds(500), maxAttempts: Int = 8,
            baseBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(600)
        ) {
            self.subscriptions = subscriptions
            self.start = start
            self.batchSize = batchSize
            self.lease = lease
            self.pollInterval = pollInterval
            self.maxAttempts = maxAttempts
            self.baseBackoff = baseBackoff
            self.maxBackoff = maxBackoff
        }
    }

    /// Handles one event; throwing schedules a retry (with backoff) or, after `maxAttempts`,
    /// dead-letters the delivery.
    public typealias Handler = @Sendable (EventEnvelope) async throws -> Void

    public let group: String
    public let owner: String
    let store: ConsumerGroupStore
    let listener: PGListener
    let options: Options
    let handler: Handler
    let logger: Logger
    /// Whether the group row has been created or refreshed by this worker.
    private let registered = Mutex(false)
    /// Whether the last pass found the group stopped for `reset-snapshots` (logged on change).
    private let stoppedForReset = Mutex(false)
    private let handled: Counter
    private let failed: Counter

    public init(
        group: String, pool: PGPool, listener: PGListener, options: Options = Options(), logger: Logger = Logger(label: "authd.events"),
        handler: @escaping Handler
    ) {
        self.group = group
        self.owner = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))"
        self.store = ConsumerGroupStore(pool: pool)
        self.listener = listener
        self.options = options
        self.handler = handler
        self.logger = logger
        handled = Counter(label: "authd_events_handled_total", dimensions: [("group", group), ("result", "success")])
        failed = Counter(label: "authd_events_handled_total", dimensions: [("group", group), ("result", "failure")])
    }

    public func run() async throws {
        let wakeups = listener.subscribe(to: [EventChannels.events], bufferSize: 16)
        defer { wakeups.cancel() }
        // Graceful shutdown lets the event in hand finish (its result is recorded) and gives the
        // rest of the batch back; only cancellation (the service group's shutdown deadline, or a
        // failing sibling service) interrupts a handler, whose event is then given back too.
        var failures = 0
        // Results of a full batch, marked done by the next pass's first statement.
        var pending: [UUID] = []
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let handled: Int
            let nextRetry: Double?
            do {
                (handled, pending, nextRetry) = try await self.pass(completing: pending)
                failures = 0
            } catch {
                // A database hiccup must not end the worker: log, back off, go on. Results not
                // recorded are redelivered (at least once).
                pending = []
                failures += 1
                self.logger.warning("consumer group pass failed; retrying", metadata: ["group": "\(self.group)", "error": "\(error)"])
                let backoff = Duration.milliseconds(min(5_000, 100 * (1 << min(failures, 6))))
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: backoff) }
                continue
            }
            // A full batch: more may be waiting, go again at once (its results ride along).
            // Otherwise record the results, then sleep until a NOTIFY, the poll interval, or the
            // earliest retry.
            if handled < self.options.batchSize {
                var due = nextRetry
                if handled > 0 {  // results to record, and maybe a failure whose retry is due soon
                    do {
                        let (completed, next) = try await self.store.completeAndNextRetry(group: self.group, owner: self.owner, done: pending)
                        self.reportLost(pending.count - completed)
                        due = next
                    } catch {
                        // Whether a retry is due is unknown: look again soon rather than sleep
                        // a whole poll interval past a failed delivery.
                        self.logger.warning("could not mark deliveries done; they will be redelivered", metadata: ["error": "\(error)"])
                        due = 0.2
                    }
                    pending = []
                }
                let wait = due.map { min(self.options.pollInterval, .milliseconds(Int(max(0, $0) * 1000) + 5)) } ?? self.options.pollInterval
                await cancelWhenGracefulShutdown { await self.waitForWork(wakeups, timeout: wait) }
            }
        }
        await completeAll(&pending)
    }

    /// Logs when the group stops for, or comes back from, `reset-snapshots`. While stopped the
    /// worker still finishes the deliveries the group already has; new events wait in the outbox.
    private func reportReset(_ needsReset: Bool) {
        let changed = stoppedForReset.withLock { was in
            defer { was = needsReset }
            return was != needsReset
        }
        guard changed else { return }
        if needsReset {
            logger.error("\(SnapshotsNeedReset(group: group))", metadata: ["group": "\(group)"])
        } else {
            logger.notice("consumer group re-based; taking new events again", metadata: ["group": "\(group)"])
        }
    }

    /// Advances the group and handles one batch; returns how many events were claimed.
    @discardableResult
    public func runOnce() async throws -> Int {
        var (count, done, _) = try await pass(completing: [])
        await completeAll(&done)
        return count
    }

    /// Records `completing`, advances, claims and handles one batch; returns how many events were
    /// claimed, the ids handled successfully (not yet marked done), and when nothing was claimed
    /// the seconds until the earliest retry.
    private func pass(completing: [UUID]) async throws -> (Int, [UUID], Double?) {
        if !registered.withLock({ $0 }) {
            try await store.ensure(group: group, subscriptions: options.subscriptions, start: options.start)
            registered.withLock { $0 = true }
        }
        let (completed, batch, nextRetry, needsReset) = try await store.completeAdvanceAndClaim(
            group: group, owner: owner, done: completing, limit: options.batchSize, lease: options.lease, maxAttempts: options.maxAttempts)
        reportLost(completing.count - completed)
        reportReset(needsReset)
        guard !batch.isEmpty else { return (0, [], nextRetry) }
        // Handlers run one after another in this task; one renewal loop keeps the leases of the
        // batch's unfinished deliveries (a task per event cost more than a short handler).
        // Successful deliveries are marked done together (one statement, not one per event).
        let held = HeldLeases(batch.map(\.id))
        var done: [UUID] = []
        await withTaskGroup(of: Void.self) { renewal in
            renewal.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.options.lease / 3)
                    if Task.isCancelled { break }
                    let ids = Array(held.ids.withLock { $0 })
                    if ids.isEmpty { continue }
                    let renewed = (try? await self.store.renewAll(group: self.group, events: ids, owner: self.owner, lease: self.options.lease)) ?? 0
                    if renewed < ids.count {
                        self.logger.warning("lease lost while handling", metadata: ["group": "\(self.group)", "count": "\(ids.count - renewed)"])
                    }
                }
            }
            var flushedAt = ContinuousClock.now
            for (i, event) in batch.enumerated() {
                if Task.isCancelled || Task.isShuttingDownGracefully {
                    // Shutting down: give the rest back untouched for another worker.
                    for rest in batch[i...] { try? await store.release(group: group, event: rest.id, owner: owner) }
                    held.ids.withLock { $0.subtract(batch[i...].map(\.id)) }
                    break
                }
                if await handle(event) {
                    done.append(event.id)  // still held (renewed) until marked done
                } else {
                    _ = held.ids.withLock { $0.remove(event.id) }  // failed or given back: no longer ours
                }
                // A long batch flushes its results before their leases could matter.
                if ContinuousClock.now - flushedAt > options.lease / 3 {
                    let flushed = done
                    await completeAll(&done)
                    held.ids.withLock { $0.subtract(flushed) }
                    flushedAt = .now
                }
            }
            renewal.cancelAll()
        }
        return (batch.count, done, nextRetry)
    }

    /// Results whose lease ran out before they were recorded (another worker will redo them).
    private func reportLost(_ count: Int) {
        if count > 0 { logger.warning("lease lost before completion; results dropped", metadata: ["count": "\(count)"]) }
    }

    private func completeAll(_ done: inout [UUID]) async {
        guard !done.isEmpty else { return }
        do {
            let completed = try await store.completeAll(group: group, events: done, owner: owner)
            reportLost(done.count - completed)
        } catch {
            logger.warning("could not mark deliveries done; they will be redelivered", metadata: ["error": "\(error)"])
        }
        done.removeAll()
    }

    /// Runs the handler (its lease is renewed by the batch's loop); true when it succeeded (the
    /// caller marks it done), else the failure or the interruption is recorded here.
    private func handle(_ event: EventEnvelope) async -> Bool {
        let outcome: Result<Void, any Error>
        do {
            try await handler(event)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        do {
            switch outcome {
            case .success:
                handled.increment()
                return true
            case .failure where Task.isCancelled:
                // Shutdown interrupted the handler: give the event back for another worker.
                try await store.release(group: group, event: event.id, owner: owner)
            case .failure(let error):
                failed.increment()
                let exponent = min(event.attempt - 1, 20)
                let backoff = min(options.baseBackoff * (1 << exponent), options.maxBackoff)
                try await store.fail(
                    group: group, event: event.id, owner: owner, error: String(describing: error), backoff: backoff,
                    maxAttempts: options.maxAttempts)
            }
        } catch {
            logger.warning("could not record the delivery outcome; it will be retried", metadata: ["error": "\(error)"])
        }
        return false
    }

    /// Sleeps until a NOTIFY (or resync) arrives or the poll interval passes.
    private func waitForWork(_ wakeups: PGSubscription, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var it = wakeups.makeAsyncIterator()
                _ = await it.next()
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}

/// The deliveries of a batch whose leases a worker still needs (shared with its renewal loop).
private final class HeldLeases: Sendable {
    let ids: Mutex<Set<UUID>>
    init(_ ids: [UUID]) { self.ids = Mutex(Set(ids)) }
}
