import AuthCore
import AuthCrypto
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
    /// The event's one-time secret, still sealed (nil: none, or purged already).
    public let sealedSecret: [UInt8]?

    static let columns = """
        e.id, e.type, e.version, e.tenant_id, e.occurred_at, e.actor::text AS actor, e.subject::text AS subject, \
        e.data::text AS data, e.sealed_secret
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
        sealedSecret = try row.decode("sealed_secret", as: PGBytes?.self)?.bytes
    }

    /// The one-time secret in clear, for a handler that must deliver it (an e-mail or SMS
    /// sender); nil when the event has none or it was purged. Throws when `sealer`'s keyring
    /// lacks the key it was sealed with.
    public func secret(_ sealer: SecretSealer) throws -> String? {
        guard let sealedSecret else { return nil }
        let clear = try sealer.open(sealedSecret, purpose: EventOutbox.secretPurpose, associatedData: EventOutbox.secretAssociatedData(id))
        return String(decoding: clear, as: UTF8.self)
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
