#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Appends events to the outbox inside the caller's transaction — rolled back ⇒ no event,
/// committed ⇒ the event exists even if no consumer is running — sealing their one-time
/// secrets, and wakes consumers once the transaction committed.
public struct EventOutbox: Sendable {
    /// Poked after COMMIT when a transaction appended events (nil: nobody to wake).
    let notifier: EventNotifier?
    /// Seals events' one-time secrets (nil: an event carrying one is refused).
    let sealer: SecretSealer?
    let store = EventStore()

    /// The sealer (the keyring's), for secrets kept at rest besides events (TOTP secrets).
    func sealerOrThrow() throws -> SecretSealer {
        guard let sealer else { throw AuthError.internalError("no keyring to seal secrets with") }
        return sealer
    }

    public init(notifier: EventNotifier? = nil, sealer: SecretSealer? = nil) {
        self.notifier = notifier
        self.sealer = sealer
    }

    /// The purpose (key derivation label) secrets of events are sealed under.
    public static let secretPurpose = "authd event secret v1"

    /// The associated data binding a sealed secret to its event (a sealed value moved to
    /// another row does not open).
    public static func secretAssociatedData(_ id: UUID) -> [UInt8] {
        Array("event:\(id.uuidString.lowercased())".utf8)
    }

    /// Wakes consumers once `tx` commits (also for events written by statements of their own).
    func notifyAfterCommit(_ tx: PGTransaction) {
        guard let notifier else { return }
        tx.afterCommit { notifier.poke() }
    }

    /// The row to store for `event`, its secret sealed to its id.
    func row(_ event: AuthEvent) throws -> EventStore.Row {
        guard let secret = event.secret else { return EventStore.Row(event) }
        guard let sealer else { throw AuthError.internalError("an event carries a one-time secret but the outbox has no sealer") }
        let sealed = try sealer.seal(Array(secret.value.utf8), purpose: Self.secretPurpose, associatedData: Self.secretAssociatedData(event.id))
        return EventStore.Row(event, sealedSecret: sealed, secretExpiresAt: secret.expiresAt)
    }

    /// Appends `events` in the transaction `tx`.
    public func append(_ events: [AuthEvent], in tx: PGTransaction) async throws {
        guard !events.isEmpty else { return }
        notifyAfterCommit(tx)
        try await store.append(try events.map(row), on: tx)
    }

    /// Appends one event.
    public func append(_ event: AuthEvent, in tx: PGTransaction) async throws {
        try await append([event], in: tx)
    }
}
