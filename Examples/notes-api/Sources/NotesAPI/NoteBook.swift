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

    public var count: Int { notes.values.reduce(0) { $0 + $1.count } }
}
