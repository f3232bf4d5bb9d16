#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Reads a tenant's audit trail (rows are written only by the outbox trigger, never here).
public struct AuditLogStore: Sendable {
    public init() {}

    public struct Query: Sendable {
        public var userID: UUID?
        /// An event type (`auth.login_failed`) or a prefix ending in `.*` (`auth.user.*`).
        public var kind: String?
        public var outcome: String?
        public var from: Date?
        public var to: Date?
        /// Rows older than this id (the previous page's last `id`): keyset paging.
        public var before: Int64?
        public var limit: Int

        public init(
            userID: UUID? = nil, kind: String? = nil, outcome: String? = nil, from: Date? = nil, to: Date? = nil, before: Int64? = nil, limit: Int = 50
        ) {
            self.userID = userID
            self.kind = kind
            self.outcome = outcome
            self.from = from
            self.to = to
            self.before = before
            self.limit = limit
        }
    }

    /// The platform admins' trail (`auth.platform_audit_log`), newest first; `before` pages.
    public func platformRows(before: Int64?, limit: Int, on db: some PGQueryable) async throws -> [JSONObject] {
        try await db.query(
            """
            SELECT id, kind, outcome, actor::text AS actor, ip_address, user_agent, request_id, data::text AS data, created_at
            FROM auth.platform_audit_log WHERE ($1::int8 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2
            """, before, limit
        ).map(Self.common)
    }

    /// Newest first.
    public func rows(_ q: Query, on db: some PGQueryable) async throws -> [JSONObject] {
        try await db.query(
            """
            SELECT id, event_id, kind, outcome, user_id, session_id, actor::text AS actor, ip_address, user_agent, request_id,
                   data::text AS data, created_at
            FROM audit_log
            WHERE ($1::uuid IS NULL OR user_id = $1)
              AND ($2::text IS NULL OR kind = $2 OR (right($2, 2) = '.*' AND starts_with(kind, left($2, -1))))
              AND ($3::text IS NULL OR outcome = $3)
              AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
              AND ($6::int8 IS NULL OR id < $6)
            ORDER BY id DESC LIMIT $7
            """, q.userID, q.kind, q.outcome, q.from, q.to, q.before, q.limit
        ).map { row in
            var out = try Self.common(row)
            for (key, column) in [("eventId", "event_id"), ("userId", "user_id"), ("sessionId", "session_id")] {
                out[key] = (try row.decode(column, as: UUID?.self)).map { .string($0.uuidString.lowercased()) } ?? .null
            }
            return out
        }
    }

    /// The columns both trails have, as the admin APIs answer them.
    private static func common(_ row: PGRow) throws -> JSONObject {
        [
            "id": .int(Int(try row.decode("id", as: Int64.self))), "kind": .string(try row.decode("kind")),
            "outcome": .string(try row.decode("outcome")), "actor": try JSONValue.parse(try row.decode("actor", as: String.self)),
            "ipAddress": (try row.decode("ip_address", as: String?.self)).map(JSONValue.string) ?? .null,
            "userAgent": (try row.decode("user_agent", as: String?.self)).map(JSONValue.string) ?? .null,
            "requestId": (try row.decode("request_id", as: String?.self)).map(JSONValue.string) ?? .null,
            "data": try JSONValue.parse(try row.decode("data", as: String.self)),
            "createdAt": .string(ISO8601.format(try row.decode("created_at"))),
        ]
    }
}
