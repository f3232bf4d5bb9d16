import PGKit
import ServiceLifecycle

/// Sends `NOTIFY auth_events` after commits that appended events, coalesced: a poke while a
/// NOTIFY is pending or in flight costs nothing more, so one NOTIFY serves many commits.
///
/// NOTIFY is not sent inside the flows' transactions: PostgreSQL serialises the commits of all
/// transactions that notified (DESIGN.md §5). It is only a wake-up; consumers also poll, so a
/// crash between COMMIT and NOTIFY delays an event but never loses it.
public final class EventNotifier: Service, Sendable {
    /// The channel consumers LISTEN on (empty payloads: the outbox table is the truth).
    public static let channel = "auth_events"

    let db: AuthDatabase
    private let doorbell = Doorbell()

    public init(db: AuthDatabase) {
        self.db = db
    }

    /// Called after a COMMIT that appended events; never blocks.
    public func poke() {
        doorbell.ring()
    }

    public func run() async throws {
        let store = NotificationStore()
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // Pokes that arrive while a NOTIFY is in flight ring again: one more NOTIFY.
                await self.doorbell.wait()
                if Task.isCancelled { break }
                _ = try? await self.db.statements { try await store.notify(Self.channel, on: $0) }
            }
        }
    }
}
