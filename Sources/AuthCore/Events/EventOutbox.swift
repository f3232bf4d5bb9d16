import PGKit

/// Appends events to `auth.events` inside the caller's transaction: rolled back ⇒ no event,
/// committed ⇒ the event exists even if no consumer is running. (Delivery is the events issue.)
public struct EventOutbox: Sendable {
    /// Poked after COMMIT when a transaction appended events (nil: nobody to wake).
    let notifier: EventNotifier?

    public init(notifier: EventNotifier? = nil) {
        self.notifier = notifier
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
            try await tx.query(
                """
                INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, Self.binds(event))
        }
    }

    /// The seven `$n` values of an event, in the column order of the INSERT above.
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
