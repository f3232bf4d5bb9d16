import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// An event as a consumer receives it: the versioned envelope of DESIGN.md §5, plus how many
/// times this group has been handed it (handlers use `id` for idempotency).
public struct EventEnvelope: Sendable, Equatable {
    public let id: UUID
    public let type: String
    public let version: Int
    public let tenantID: UUID?
    public let occurredAt: Date
    public let actor: JSONObject
    public let subject: JSONObject
    public let data: JSONObject
    /// 1 on the first delivery to this group.
    public let attempt: Int

    static let columns = """
        e.id, e.type, e.version, e.tenant_id, e.occurred_at, e.actor::text AS actor, e.subject::text AS subject, \
        e.data::text AS data
        """

    init(row: PGRow) throws {
        id = try row.decode("id")
        type = try row.decode("type")
        version = try row.decode("version")
        tenantID = try row.decode("tenant_id", as: UUID?.self)
        occurredAt = try row.decode("occurred_at")
        actor = try JSONValue.parse(try row.decode("actor", as: String.self)).objectValue
        subject = try JSONValue.parse(try row.decode("subject", as: String.self)).objectValue
        data = try JSONValue.parse(try row.decode("data", as: String.self)).objectValue
        attempt = try row.decode("attempts")
    }

    /// The envelope as JSON (what the webhook and log consumers send).
    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()), "type": .string(type), "version": .int(version),
            "tenant": tenantID.map { .string($0.uuidString.lowercased()) } ?? .null,
            "occurredAt": .string(ISO8601.format(occurredAt)), "actor": .object(actor), "subject": .object(subject),
            "data": .object(data),
        ]
    }
}
