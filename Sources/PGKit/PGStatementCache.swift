/// Which statements a connection has prepared on the server, so a statement the code runs again
/// skips parsing and planning (PostgreSQL re-plans it by itself when a table it uses changes or
/// when `search_path` differs from the one it was planned under, so tenant switching is safe).
///
/// A statement is prepared on its second run, not its first: one-off SQL (migrations, DDL) never
/// takes a server-side slot. Statements scoped to a schema are kept once per schema and prepared
/// at once while there is room (see `key` and `plan`). At most `capacity` statements stay
/// prepared per connection; when the connection is outside a transaction the least recently
/// used one makes room (the caller deallocates it), inside one a statement that finds no room
/// runs unnamed as before.
/// Not thread-safe: it belongs to one `PGConnection`, used by one thread at a time.
struct PGStatementCache {
    /// What to do with a statement about to run.
    enum Plan: Equatable {
        /// Run it unnamed (`PQexecParams`).
        case unnamed
        /// Deallocate `evicting` (server-side names), prepare it under `name`, then run it.
        case prepare(String, evicting: [String])
        /// Run the statement prepared under this name.
        case execute(String)
    }

    let capacity: Int
    private var names: [String: (name: String, lastUse: UInt64)] = [:]
    private var seenOnce: Set<String> = []
    /// Prepared on the server but no longer used (their result type changed): dropped at the
    /// next chance outside a transaction.
    private var stale: [String] = []
    private var counter = 0
    private var clock: UInt64 = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// The cache key: the same text with other parameter types is another statement, and so is
    /// the same text run under another schema (`scope`, the search path). PostgreSQL keeps one
    /// plan per prepared statement and re-plans it whenever the search path differs from the one
    /// it was planned under, so a statement shared by every tenant would be re-planned on nearly
    /// every run once tenants alternate on a connection; one per schema keeps each plan valid.
    static func key(_ sql: String, _ oids: [UInt32], scope: String? = nil) -> String {
        var key = oids.isEmpty ? sql : sql + "\u{0}" + oids.map(String.init).joined(separator: ",")
        if let scope { key += "\u{0}\u{0}" + scope }
        return key
    }

    /// Decides how to run `key`; a `.prepare` must be confirmed with `prepared(_:as:)`.
    /// `idle`: the connection is outside any transaction, so deallocating is safe. `eager`:
    /// prepare on the first run while there is room — a statement scoped to a schema is a
    /// store's fixed text, never one-off SQL, and it runs too rarely per schema and connection
    /// to wait for a second run. Once the cache is full it too needs a second run within the
    /// recent sightings: with more schemas than room, preparing every first sighting would
    /// evict (a DEALLOCATE round trip) and plan on nearly every statement.
    mutating func plan(_ key: String, idle: Bool = true, eager: Bool = false) -> Plan {
        guard capacity > 0 else { return .unnamed }
        clock &+= 1
        if let entry = names[key] {
            names[key] = (entry.name, clock)
            return .execute(entry.name)
        }
        if !(eager && names.count < capacity), seenOnce.remove(key) == nil {
            // Bounded: forgetting first sightings only delays a statement's preparation.
            if seenOnce.count >= capacity * 4 { seenOnce.removeAll(keepingCapacity: true) }
            seenOnce.insert(key)
            return .unnamed
        }
        var evicting: [String] = []
        if idle {
            evicting = stale
            stale.removeAll()
        }
        if names.count >= capacity {
            guard idle, let oldest = names.min(by: { $0.value.lastUse < $1.value.lastUse }) else {
                stale += evicting  // not now after all
                seenOnce.insert(key)  // still a candidate: its next run outside a transaction prepares it
                return .unnamed
            }
            names[oldest.key] = nil
            evicting.append(oldest.value.name)
        }
        counter += 1
        return .prepare("pgkit_\(counter)", evicting: evicting)
    }

    /// Records that the server holds `key` as `name`.
    mutating func prepared(_ key: String, as name: String) {
        clock &+= 1
        names[key] = (name, clock)
    }

    /// Forgets `key`: its server statement failed in a way a fresh one may not. `exists`: the
    /// server still holds it (deallocated later).
    mutating func forget(_ key: String, exists: Bool) {
        guard let entry = names.removeValue(forKey: key) else { return }
        if exists { stale.append(entry.name) }
    }

    /// How many statements are prepared on the server for current use.
    var count: Int { names.count }
}
