#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Notes in memory, per tenant and user: the example's whole "database".
public actor NoteBook {
    public struct Note: Codable, Sendable, Equatable {
        public var id: UUID
        public var text: String
    }

    private var notes: [String: [Note]] = [:]

    public init() {}

    public func add(_ text: String, tenant: UUID, user: UUID) -> Note {
        let note = Note(id: UUID(), text: text)
        notes["\(tenant)/\(user)", default: []].append(note)
        return note
    }

    public func list(tenant: UUID, user: UUID) -> [Note] {
        notes["\(tenant)/\(user)"] ?? []
    }

    /// Notes kept for a tenant (every user's).
    public func count(tenant: UUID) -> Int {
        notes.filter { $0.key.hasPrefix("\(tenant)/") }.values.reduce(0) { $0 + $1.count }
    }
}
