#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The outbox `auth.events` (DESIGN.md §5): the one writer of its rows. Statements that write an
/// event together with their own change (a session created, a token rotated) embed `insertSQL`
/// in a CTE, so that change and its event stay one round trip — with this one INSERT's text.
public struct EventStore: Sendable {
    /// An event as it is stored: its one-time secret, if any, already sealed (`EventOutbox`).
    public struct Row: Sendable {
        public var event: AuthEvent
        public var sealedSecret: [UInt8]?
        public var secretExpiresAt: Date?

        public init(_ event: AuthEvent, sealedSecret: [UInt8]? = nil, secretExpiresAt: Date? = nil) {
            self.event = event
            self.sealedSecret = sealedSecret
            self.secretExpiresAt = secretExpiresAt
        }
    }

    public init() {}

    /// How many `$n` values `binds` gives: id, type, version, tenant, actor, subject, data,
    /// sealed secret, secret expiry, request origin.
    static let bindCount = 10

    /// The INSERT of one event, its values `$first…` (`SELECT` …, optionally `FROM from`). `actor`/`subject`: SQL
    /// expressions over `from` that replace those two values (for a statement that learns the
    /// user only from the row it changes); their `$n` are then sent but unused.
    static func insertSQL(first n: Int, actor: String? = nil, subject: String? = nil, from: String? = nil) -> String {
        let values = [
            "$\(n)", "$\(n + 1)", "$\(n + 2)", "$\(n + 3)", actor ?? "$\(n + 4)", subject ?? "$\(n + 5)", "$\(n + 6)", "$\(n + 7)",
            "$\(n + 8)", "$\(n + 9)",
        ]
        return """
            INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data, sealed_secret, secret_expires_at, request)
            SELECT \(values.joined(separator: ", "))\(from.map { " FROM \($0)" } ?? "")
            """
    }

    /// The `bindCount` values of `row`, in `insertSQL`'s order.
    static func binds(_ row: Row) -> [any PGEncodable] {
        let e = row.event
        return [
            e.id, e.type.rawValue, e.version, e.tenantID,
            PGBind.jsonb(JSONValue.object(e.actor.isEmpty ? (RequestOrigin.actor ?? [:]) : e.actor).jsonText),
            PGBind.jsonb(JSONValue.object(e.subject).jsonText), PGBind.jsonb(JSONValue.object(e.data).jsonText),
            row.sealedSecret.map(PGBind.bytea) ?? PGBind.null(PGOID.bytea), row.secretExpiresAt,
            RequestOrigin.current.map { PGBind.jsonb(JSONValue.object($0.json).jsonText) } ?? PGBind.null(PGOID.jsonb),
        ]
    }

    /// Appends rows (inside the caller's transaction: rolled back ⇒ no event).
    public func append(_ rows: [Row], on db: some PGQueryable) async throws {
        for row in rows { try await db.query(Self.insertSQL(first: 1), Self.binds(row)) }
    }

    /// Forgets one-time secrets that are of no more use: expired, or taken by every active group
    /// (advanced past) with no delivery of the event still pending or dead (a retry would need
    /// it). While a consumer group needs `reset-snapshots`, only expired secrets go: the reset
    /// may hand that group events its stored snapshot wrongly claims it took. Returns how many
    /// were purged.
    public func purgeSecrets(on db: some PGQueryable) async throws -> Int {
        try await db.query(
            """
            UPDATE auth.events e SET sealed_secret = NULL
            WHERE e.sealed_secret IS NOT NULL
              AND (e.secret_expires_at < now()
                   OR (NOT EXISTS (SELECT 1 FROM auth.consumer_groups WHERE needs_reset)
                       AND NOT EXISTS (SELECT 1 FROM auth.consumer_groups g
                                   WHERE g.status = 'active' AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot))
                       AND NOT EXISTS (SELECT 1 FROM auth.event_deliveries d JOIN auth.consumer_groups g ON g.name = d.group_name
                                       WHERE d.event_id = e.id AND (d.status = 'dead' OR (d.status = 'pending' AND g.status = 'active')))))
            """, []
        ).affectedRows
    }
}
