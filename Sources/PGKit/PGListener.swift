import CLibPQ
import Logging
import ServiceLifecycle
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A LISTEN connection on a thread of its own, fanning notifications out to subscribers.
///
/// Only that thread touches the connection. It waits in `poll(2)` on the libpq socket and on a
/// wake-up pipe, so shutdown and new subscriptions reach it at once rather than after a timeout.
/// When the connection breaks it reconnects with exponential backoff (reset only once LISTEN
/// succeeded again), re-issues LISTEN, and sends every subscriber `.resync(.reconnected)`:
/// NOTIFYs sent meanwhile are gone, the tables are not.
public final class PGListener: Sendable {
    /// Reconnect backoff bounds.
    public struct Backoff: Sendable {
        public var initial: Duration
        public var maximum: Duration
        public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(5)) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    struct Shared {
        var subscriptions: [Int: PGSubscription] = [:]
        var nextID = 0
        var stopping = false
        var started = false
        var exited = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        /// Incremented each time a connection is established (observable by tests and metrics).
        var connections = 0
    }

    let conninfo: String
    let backoff: Backoff
    let logger: Logger
    private let shared = Mutex(Shared())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// Creates the listener; `start()` (or running it as a `Service`) starts its thread.
    public init(conninfo: String, backoff: Backoff = Backoff(), logger: Logger = Logger(label: "authd.pg.listen")) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PGError(.connection, "cannot create wake-up pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        self.wakeRead = fds[0]
        self.wakeWrite = fds[1]
        self.conninfo = conninfo
        self.backoff = backoff
        self.logger = logger
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// How many times the listener has connected (1 after the first connect).
    public var connectionCount: Int { shared.withLock { $0.connections } }

    /// Subscribes to `channels`. The first event is `.resync(.subscribed)`, sent once the
    /// channels are LISTENed: from then on no NOTIFY on them is missed without a resync.
    public func subscribe(to channels: Set<String>, bufferSize: Int = 1024) -> PGSubscription {
        let subscription = shared.withLock { s in
            s.nextID += 1
            let sub = PGSubscription(id: s.nextID, channels: channels, capacity: bufferSize) { [weak self] id in
                self?.remove(subscription: id)
            }
            if s.stopping { sub.finish() } else { s.subscriptions[sub.id] = sub }
            return sub
        }
        wake()
        return subscription
    }

    /// Starts the listener thread (once).
    public func start() {
        let first = shared.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        let thread = Thread { [self] in self.threadMain() }
        thread.name = "authd-pg-listen"
        thread.start()
    }

    /// Stops the thread, closes the connection and ends every subscription; returns once the
    /// thread has exited.
    public func shutdown() async {
        let mustWait = shared.withLock { s -> Bool in
            s.stopping = true
            return s.started && !s.exited
        }
        wake()
        if mustWait {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let done = shared.withLock { s -> Bool in
                    if s.exited { return true }
                    s.exitWaiters.append(c)
                    return false
                }
                if done { c.resume() }
            }
        }
        let subs = shared.withLock { s in
            defer { s.subscriptions = [:] }
            return Array(s.subscriptions.values)
        }
        subs.forEach { $0.finish() }
    }

    private func remove(subscription id: Int) {
        shared.withLock { _ = $0.subscriptions.removeValue(forKey: id) }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    // MARK: - the listener thread

    private func threadMain() {
        var connection: PGConnection?
        var listening = Set<String>()
        var delay = backoff.initial
        var lost = false
        while !shared.withLock({ $0.stopping }) {
            if connection == nil {
                // Always wait before reconnecting: a server that accepts connections but refuses
                // LISTEN (a standby during failover) must not be hammered in a tight loop.
                if lost {
                    waitForWake(timeout: delay)
                    delay = min(delay * 2, backoff.maximum)
                    if shared.withLock({ $0.stopping }) { break }
                }
                do {
                    connection = try PGConnection(conninfo: conninfo)
                    listening = []
                    shared.withLock { $0.connections += 1 }
                } catch {
                    logger.warning("LISTEN connection failed; retrying", metadata: ["error": "\(error)", "delay": "\(delay)"])
                    lost = true
                    continue
                }
            }
            guard let conn = connection else { continue }
            do {
                let subs = currentSubscriptions()
                let wanted = subs.reduce(into: Set<String>()) { $0.formUnion($1.channels) }
                for channel in wanted.subtracting(listening) {
                    try conn.execute("LISTEN \(try conn.escapeIdentifier(channel))")
                }
                for channel in listening.subtracting(wanted) {
                    try conn.execute("UNLISTEN \(try conn.escapeIdentifier(channel))")
                }
                listening = wanted
                // Only a connection that LISTENs is a working one: the backoff starts over here.
                delay = backoff.initial
                if lost {
                    lost = false
                    logger.info("LISTEN connection re-established")
                    for sub in subs where sub.isActive { sub.deliver(.resync(.reconnected)) }
                }
                for sub in subs { sub.activate() }
                dispatch(conn.drainNotifications())
                try waitForInput(conn)
                dispatch(conn.drainNotifications())
            } catch {
                logger.warning("LISTEN connection lost; reconnecting", metadata: ["error": "\(error)", "delay": "\(delay)"])
                connection = nil
                lost = true
            }
        }
        connection = nil
        let waiters = shared.withLock { s in
            s.exited = true
            defer { s.exitWaiters = [] }
            return s.exitWaiters
        }
        waiters.forEach { $0.resume() }
    }

    private func currentSubscriptions() -> [PGSubscription] {
        shared.withLock { Array($0.subscriptions.values) }
    }

    private func dispatch(_ notifications: [PGConnection.Notification]) {
        guard !notifications.isEmpty else { return }
        let subs = currentSubscriptions().filter(\.isActive)
        for n in notifications {
            let event = PGListenerEvent.notification(channel: n.channel, payload: n.payload, senderPID: n.pid)
            for sub in subs where sub.channels.contains(n.channel) { sub.deliver(event) }
        }
    }

    /// Blocks until the server sends something or someone wakes the thread.
    private func waitForInput(_ conn: PGConnection) throws {
        var fds = [
            pollfd(fd: conn.socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        // After 30 s of silence, ask the server something: a half-open TCP connection would
        // otherwise go unnoticed (and NOTIFYs lost without a resync) until OS keepalive.
        let ready = poll(&fds, 2, 30_000)
        if ready < 0, errno != EINTR { throw PGError(.connection, "poll failed: errno \(errno)") }
        if ready == 0 {
            try conn.execute("SELECT 1")
            return
        }
        if fds[1].revents != 0 { drainWake() }
        if fds[0].revents != 0 { try conn.consumeInput() }
    }

    private func waitForWake(timeout: Duration) {
        var fd = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        let ms = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        _ = poll(&fd, 1, Int32(clamping: ms))
        drainWake()
    }
}

extension PGListener: Service {
    /// Runs the listener until graceful shutdown.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await shutdown()
    }
}
