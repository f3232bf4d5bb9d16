#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// An operator of the whole deployment (`auth.platform_admins`): manages tenants and any
/// tenant's users through the admin console. Not a user of any tenant.
public struct PlatformAdmin: Sendable, Equatable {
    public var id: UUID
    public var email: String
    public var name: String?
    public var createdAt: Date

    static let columns = "id, email, name, created_at"

    init(row: PGRow, prefix p: String = "") throws {
        id = try row.decode(p + "id")
        email = try row.decode(p + "email")
        name = try row.decode(p + "name", as: String?.self)
        createdAt = try row.decode(p + "created_at")
    }

    /// The actor of the events this admin's requests cause (audit rows).
    public var auditActor: JSONObject {
        ["type": .string("platform_admin"), "id": .string(id.uuidString.lowercased())]
    }

    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()), "email": .string(email), "name": name.map(JSONValue.string) ?? .null,
            "createdAt": .string(ISO8601.format(createdAt)),
        ]
    }
}
