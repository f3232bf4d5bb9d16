#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Appends events to `auth.events` inside the caller's transaction: rolled back ⇒ no event,
/// committed ⇒ the event exists even if no consumer is running. (Delivery is the events issue.)
public struct EventOutbox: Sendable {
    /// Poked after COMMIT when a transaction appended events (nil: nobody to wake).
    let notifier: EventNotifier?
    /// Seals events' one-time secrets (nil: an event carrying one is refused).
    let sealer: SecretSealer?

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

    /// Appends `events` in the transaction `tx` (schema-qualified: tenant transactions run with
    /// the tenant's search path only).
    public func append(_ events: [AuthEvent], in tx: PGTransaction) async throws {
        if !events.isEmpty { notifyAfterCommit(tx) }
        for event in events {
            guard let secret = event.secret else {
                try await tx.query(
                    """
                    INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, Self.binds(event))
                continue
            }
            guard let sealer else { throw AuthError.internalError("an event carries a one-time secret but the outbox has no sealer") }
            let sealed = try sealer.seal(
                Array(secret.value.utf8), purpose: Self.secretPurpose, associatedData: Self.secretAssociatedData(event.id))
            try await tx.query(
                """
                INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data, sealed_secret, secret_expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, Self.binds(event) + [PGBind.bytea(sealed), secret.expiresAt])
        }
    }

    /// The seven `$n` values of an event, in the column order of the INSERT above. Statements
    /// that insert an event of their own (session create, rotation) use these too: their events
    /// never carry a secret (only `append` seals one; these binds leave it out).
    static func binds(_ event: AuthEvent) -> [any PGEncodable] {
        [
            event.id, event.type.rawValue, event.version, event.tenantID,
            PGBind.jsonb(JSONValue.object(event.actor).jsonText), PGBind.jsonb(JSONValue.object(event.subject).jsonText),
            PGBind.jsonb(JSONValue.object(event.data).jsonText),
        ]
    }

    /// Appends one event.
    public func append(_ event: AuthEvent, in tx: PGTransaction) async throws {
        try await append([event], in: tx)
    }
}
