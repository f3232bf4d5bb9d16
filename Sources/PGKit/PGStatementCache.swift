/// Which statements a connection has prepared on the server, so a statement the code runs again
/// skips parsing and planning (PostgreSQL re-plans it by itself when a table it uses changes or
/// when `search_path` differs from the one it was planned under, so tenant switching is safe).
///
/// A statement is prepared on its second run, not its first: one-off SQL (migrations, DDL,
/// statements with a schema name inside) never takes a server-side slot. At most `capacity`
/// statements are prepared per connection; past that, statements run unnamed as before.
/// Not thread-safe: it belongs to one `PGConnection`, used by one thread at a time.
struct PGStatementCache {
    /// What to do with a statement about to run.
    enum Plan: Equatable {
        /// Run it unnamed (`PQexecParams`).
        case unnamed
        /// Prepare it under this name, then run it.
        case prepare(String)
        /// Run the statement prepared under this name.
        case execute(String)
    }

    let capacity: Int
    private var names: [String: String] = [:]
    private var seenOnce: Set<String> = []
    private var counter = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// The cache key: the same text with other parameter types is another statement.
    static func key(_ sql: String, _ oids: [UInt32]) -> String {
        oids.isEmpty ? sql : sql + "\u{0}" + oids.map(String.init).joined(separator: ",")
    }

    /// Decides how to run `key`; a `.prepare` must be confirmed with `prepared(_:as:)`.
    mutating func plan(_ key: String) -> Plan {
        guard capacity > 0 else { return .unnamed }
        if let name = names[key] { return .execute(name) }
        guard names.count < capacity else { return .unnamed }
        if seenOnce.remove(key) == nil {
            // Bounded: forgetting first sightings only delays a statement's preparation.
            if seenOnce.count >= capacity * 4 { seenOnce.removeAll(keepingCapacity: true) }
            seenOnce.insert(key)
            return .unnamed
        }
        counter += 1
        return .prepare("pgkit_\(counter)")
    }

    /// Records that the server holds `key` as `name`.
    mutating func prepared(_ key: String, as name: String) {
        names[key] = name
    }

    /// Forgets `key` (its server statement failed in a way a fresh one may not).
    mutating func forget(_ key: String) {
        names[key] = nil
    }

    /// How many statements are prepared on the server.
    var count: Int { names.count }
}
