import Synchronization

/// One subscriber's view of a `PGListener`: an async sequence of events with a bounded buffer.
///
/// The listener thread never blocks on a slow subscriber: when the buffer is full, the buffered
/// events are replaced by a single `.resync(.overflow)`, so loss is always signalled, never silent.
/// One task iterates a subscription; `cancel()` (or the listener shutting down) ends it.
public final class PGSubscription: AsyncSequence, Sendable {
    public typealias Element = PGListenerEvent

    struct State {
        var items: [PGListenerEvent] = []
        var head = 0
        var waiter: CheckedContinuation<PGListenerEvent?, Never>?
        var finished = false
        /// Set by the listener thread once this subscription's channels are LISTENed.
        var active = false
    }

    /// The channels this subscription receives.
    public let channels: Set<String>
    let id: Int
    let capacity: Int
    private let state = Mutex(State())
    private let onCancel: @Sendable (Int) -> Void

    init(id: Int, channels: Set<String>, capacity: Int, onCancel: @escaping @Sendable (Int) -> Void) {
        self.id = id
        self.channels = channels
        self.capacity = Swift.max(1, capacity)
        self.onCancel = onCancel
    }

    /// Stops the subscription; the iterator then ends.
    public func cancel() {
        onCancel(id)
        finish()
    }

    /// Called by the listener thread; never blocks.
    func deliver(_ event: PGListenerEvent) {
        let waiter: CheckedContinuation<PGListenerEvent?, Never>? = state.withLock { s in
            if s.finished { return nil }
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            if s.items.count - s.head >= capacity {
                s.items = [.resync(.overflow)]
                s.head = 0
            } else {
                s.items.append(event)
            }
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// True once the listener has LISTENed this subscription's channels.
    var isActive: Bool { state.withLock { $0.active } }

    /// Marks the channels as listened and emits the first `.resync(.subscribed)` once.
    func activate() {
        let first = state.withLock { s -> Bool in
            defer { s.active = true }
            return !s.active
        }
        if first { deliver(.resync(.subscribed)) }
    }

    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<PGListenerEvent?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    func next() async -> PGListenerEvent? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PGListenerEvent?, Never>) in
                let ready: PGListenerEvent?? = state.withLock { s in
                    if s.head < s.items.count {
                        let item = s.items[s.head]
                        s.head += 1
                        if s.head > 64, s.head * 2 > s.items.count {
                            s.items.removeFirst(s.head)
                            s.head = 0
                        }
                        return .some(item)
                    }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<PGListenerEvent?, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: PGSubscription
        public mutating func next() async -> PGListenerEvent? { await subscription.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }
}
