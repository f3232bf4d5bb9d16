import PGKit
import ServiceLifecycle
import Synchronization

/// Sends `NOTIFY auth_events` after commits that appended events, coalesced: a poke while a
/// NOTIFY is pending or in flight costs nothing more, so one NOTIFY serves many commits.
///
/// NOTIFY is not sent inside the flows' transactions: PostgreSQL serialises the commits of all
/// transactions that notified (DESIGN.md §5). It is only a wake-up; consumers also poll, so a
/// crash between COMMIT and NOTIFY delays an event but never loses it.
public final class EventNotifier: Service, Sendable {
    /// The channel consumers LISTEN on (empty payloads: the outbox table is the truth).
    public static let channel = "auth_events"

    struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    let pool: PGPool
    private let state = Mutex(State())

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Called after a COMMIT that appended events; never blocks.
    public func poke() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.pending = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.waitForPoke()
                if Task.isCancelled { break }
                _ = try? await self.pool.query("SELECT pg_notify($1, '')", Self.channel)
            }
        }
    }

    private func waitForPoke() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending || Task.isCancelled {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
        // Taking the flag here (after a wake) lets pokes that raced the NOTIFY trigger one more.
        state.withLock { $0.pending = false }
    }
}
