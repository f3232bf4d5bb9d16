/// Which statements a connection has prepared on the server, so a statement the code runs again
/// skips parsing and planning (PostgreSQL re-plans it by itself when a table it uses changes or
/// when `search_path` differs from the one it was planned under, so tenant switching is safe).
///
/// A statement is prepared on its second run, not its first: one-off SQL (migrations, DDL) never
/// takes a server-side slot. Statements scoped to a schema are kept once per schema and prepared
/// at once while there is room (see `key` and `plan`). At most `capacity` statements stay
/// prepared per connection. A full cache makes room only by deallocating a statement nobody ran
/// for `idleBeforeEviction` runs (and only outside a transaction; the caller deallocates it),
/// never simply the least recently used one: with more statements in use than room — many
/// tenants' statements on one connection — plain LRU evicts each statement shortly before its
/// next run, so every run paid a DEALLOCATE and a PREPARE and none found its plan. Kept instead,
/// the prepared ones are found every time and the rest run unnamed, as without a cache.
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
    /// Runs (of any statement) a prepared statement must go unused before a full cache may
    /// deallocate it to make room.
    let idleBeforeEviction: UInt64
    /// Counts every decision (shared with the pool).
    let statistics: PGPoolStatistics?
    private var names: [String: (name: String, lastUse: UInt64)] = [:]
    private var seenOnce: Set<String> = []
    /// Prepared on the server but no longer used (their result type changed): dropped at the
    /// next chance outside a transaction.
    private var stale: [String] = []
    private var counter = 0
    private var clock: UInt64 = 0
    /// No prepared statement can have been idle for `idleBeforeEviction` runs before this
    /// moment: a lower bound that spares scanning the cache while nothing can go (statements
    /// are only ever used more recently, and newly prepared ones are the most recent).
    private var nothingEvictableBefore: UInt64 = 0

    /// `idleBeforeEviction` defaults to sixteen times the capacity: a cache kept full by a
    /// cycle over up to that many statements (each tenant's, in turn) keeps what it holds.
    init(capacity: Int = 256, idleBeforeEviction: UInt64? = nil, statistics: PGPoolStatistics? = nil) {
        self.capacity = capacity
        self.idleBeforeEviction = idleBeforeEviction ?? UInt64(max(1, capacity)) * 16
        self.statistics = statistics
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
    /// recent sightings, and a statement idle long enough to give way (see `evictable`).
    mutating func plan(_ key: String, idle: Bool = true, eager: Bool = false) -> Plan {
        let plan = decide(key, idle: idle, eager: eager)
        statistics?.countStatement(plan)
        return plan
    }

    private mutating func decide(_ key: String, idle: Bool, eager: Bool) -> Plan {
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
            guard idle, let victim = evictable() else {
                stale += evicting  // not now after all
                seenOnce.insert(key)  // still a candidate: its next run may find room
                return .unnamed
            }
            names[victim.key] = nil
            evicting.append(victim.name)
        }
        counter += 1
        return .prepare("pgkit_\(counter)", evicting: evicting)
    }

    /// The least recently used prepared statement, if nobody ran it for `idleBeforeEviction`
    /// runs. The scan is linear, but it runs only when a statement can go, or once per change
    /// of `nothingEvictableBefore`.
    private mutating func evictable() -> (key: String, name: String)? {
        guard clock >= nothingEvictableBefore, let oldest = names.min(by: { $0.value.lastUse < $1.value.lastUse }) else {
            return nil
        }
        if clock - oldest.value.lastUse >= idleBeforeEviction { return (oldest.key, oldest.value.name) }
        nothingEvictableBefore = oldest.value.lastUse + idleBeforeEviction
        return nil
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
