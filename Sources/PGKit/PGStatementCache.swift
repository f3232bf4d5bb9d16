/// Which statements a connection has prepared on the server, so a statement the code runs again
/// skips parsing and planning (PostgreSQL re-plans it by itself when a table it uses changes or
/// when `search_path` differs from the one it was planned under, so tenant switching is safe).
///
/// A statement is prepared on its second run, not its first: one-off SQL (migrations, DDL) never
/// takes a server-side slot. Statements scoped to a schema are kept once per schema and prepared
/// at once while there is room (see `key` and `plan`). At most `capacity` statements stay
/// prepared per connection. A full cache does not simply evict the least recently used one
/// for a newcomer: with more statements in use than room — many tenants' statements taking
/// turns on one connection — that evicts statements shortly before their next run: those runs
/// miss their plan and pay a DEALLOCATE and a PREPARE on top. The least recently used one
/// gives way only to a newcomer run again in less than half the time it has sat unused, or
/// once it has sat unused for `idleBeforeEviction` ticks. Taking turns, the prepared ones stay
/// and the rest run unnamed, as without a cache; a hot newcomer still gets in. The caller
/// deallocates what gives way: at once outside a transaction, else at its next statement
/// outside one (it is never run again meanwhile).
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
    /// Ticks (each `plan` and each `prepared` is one) a prepared statement must sit unused
    /// before a full cache gives its room to any newcomer.
    let idleBeforeEviction: UInt64
    private var names: [String: (name: String, lastUse: UInt64)] = [:]
    /// Statements run once and not prepared, with the tick of their last run.
    private var seenOnce: [String: UInt64] = [:]
    /// Prepared on the server but no longer used (their result type changed, or they gave way
    /// inside a transaction): dropped at the next chance outside one.
    private var stale: [String] = []
    private var counter = 0
    private var clock: UInt64 = 0
    /// At most the last use of the least recently used statement: it never goes down (a use
    /// only moves a statement's last use up, a new one is the most recent), so while
    /// `clock - oldestUseAtLeast` rules an eviction out the cache is not scanned.
    private var oldestUseAtLeast: UInt64 = 0

    /// `idleBeforeEviction` defaults to sixteen times the capacity.
    init(capacity: Int = 256, idleBeforeEviction: UInt64? = nil) {
        self.capacity = capacity
        let (product, overflow) = UInt64(max(1, capacity)).multipliedReportingOverflow(by: 16)
        self.idleBeforeEviction = idleBeforeEviction ?? (overflow ? .max : product)
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
    /// `idle`: the connection is outside any transaction, so deallocating now is safe (inside
    /// one, a statement giving way waits in `stale`: a failed transaction would refuse the
    /// DEALLOCATE, and a healthy one would hold its locks for another round trip). `eager`:
    /// prepare on the first run while there is room — a statement scoped to a schema is a
    /// store's fixed text, never one-off SQL, and it runs too rarely per schema and connection
    /// to wait for a second run. Once the cache is full it too needs a second run within the
    /// recent sightings, and a statement to give way (see `evictable`).
    mutating func plan(_ key: String, idle: Bool = true, eager: Bool = false) -> Plan {
        guard capacity > 0 else { return .unnamed }
        clock &+= 1
        if let entry = names[key] {
            names[key] = (entry.name, clock)
            return .execute(entry.name)
        }
        let seenAt = seenOnce.removeValue(forKey: key)
        if !(eager && names.count < capacity), seenAt == nil {
            // Bounded: forgetting first sightings only delays a statement's preparation.
            if seenOnce.count >= min(capacity, Int.max / 4) * 4 { seenOnce.removeAll(keepingCapacity: true) }
            seenOnce[key] = clock
            return .unnamed
        }
        var evicting: [String] = []
        if idle { evicting = takeStale() }
        if names.count >= capacity {
            guard let victim = evictable(reusedAfter: clock &- (seenAt ?? 0)) else {
                stale += evicting  // not now after all
                seenOnce[key] = clock  // still a candidate: the gap to its next run decides
                return .unnamed
            }
            names[victim.key] = nil
            if idle { evicting.append(victim.name) } else { stale.append(victim.name) }
        }
        counter += 1
        return .prepare("pgkit_\(counter)", evicting: evicting)
    }

    /// The least recently used prepared statement, if it should give way to a newcomer run
    /// again `gap` ticks after its previous run: it has sat unused for more than twice that
    /// (the newcomer is clearly the hotter one; statements taking turns never are), or for
    /// `idleBeforeEviction`. Scans the cache only when `oldestUseAtLeast` allows an eviction.
    private mutating func evictable(reusedAfter gap: UInt64) -> (key: String, name: String)? {
        let twiceGap = gap > UInt64.max / 2 ? UInt64.max : gap * 2
        func goes(idleFor idle: UInt64) -> Bool { idle >= idleBeforeEviction || idle > twiceGap }
        guard goes(idleFor: clock &- oldestUseAtLeast),
              let oldest = names.min(by: { $0.value.lastUse < $1.value.lastUse })
        else { return nil }
        oldestUseAtLeast = oldest.value.lastUse
        return goes(idleFor: clock &- oldest.value.lastUse) ? (oldest.key, oldest.value.name) : nil
    }

    /// Prepared statements no longer in use — gone stale (`forget(_:exists: true)`) or given
    /// way inside a transaction — for the caller to deallocate now: call only outside one.
    mutating func takeStale() -> [String] {
        defer { stale.removeAll() }
        return stale
    }

    /// Whether stale statements wait to be deallocated.
    var hasStale: Bool { !stale.isEmpty }

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
