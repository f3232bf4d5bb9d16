#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCore
import PGKit

/// The SQL of consumer groups (DESIGN.md §5): advancing a group's snapshot into delivery rows,
/// claiming due rows under a lease, renewing, and finishing them only while the lease is held.
/// Every call is one short autocommit statement or transaction: nothing stays open while a
/// handler runs.
public struct ConsumerGroupStore: Sendable {
    /// Where a new group starts.
    public enum Start: Sendable {
        /// Events committed after the group is created.
        case now
        /// Every event still kept.
        case oldest
    }

    public let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Creates the group if missing (subscriptions are updated if it exists) and marks it seen.
    public func ensure(group: String, subscriptions: [String], start: Start) async throws {
        let initial = start == .now ? "pg_current_snapshot()" : "'1:1:'::pg_snapshot"
        try await pool.query(
            """
            INSERT INTO auth.consumer_groups (name, subscriptions, last_snapshot) VALUES ($1, $2, \(initial))
            ON CONFLICT (name) DO UPDATE SET subscriptions = excluded.subscriptions, last_seen_at = now(), status = 'active'
            """, group, subscriptions)
    }

    /// Turns every subscribed event that committed since the group's last snapshot into a
    /// delivery row, and stores the new snapshot. An event becomes visible exactly once — in the
    /// first snapshot taken after its transaction committed — so a late commit is never skipped
    /// and nothing is taken twice, and an open transaction elsewhere delays only its own events.
    /// Throws `SnapshotsNeedReset` when the database's transaction ids went backwards (the
    /// group is then marked, and stays stopped until `resetSnapshots`).
    @discardableResult
    public func advance(group: String) async throws -> Int {
        try Self.checkName(group)
        let outcome = try await pool.withTransaction(Self.bookkeeping(lock: group)) { tx in try await Self.advanceStatement(group: group, on: tx) }
        // Thrown after the commit: the mark must stick even though the advance was refused.
        if outcome.needsReset { throw SnapshotsNeedReset(group: group) }
        return outcome.added
    }

    /// Claims up to `limit` due deliveries for `owner` until `lease` from now, oldest first;
    /// rows another worker holds are skipped, not waited for.
    public func claim(group: String, owner: String, limit: Int, lease: Duration, maxAttempts: Int = 8) async throws -> [EventEnvelope] {
        try Self.checkName(group)
        return try await pool.withConnection { lease_ in
            try await Self.claim(group: group, owner: owner, limit: limit, lease: lease, maxAttempts: maxAttempts, on: lease_)
        }
    }

    /// `completeAll(done)`, `advance` and `claim` in one transaction: what a worker does on every
    /// pass, so the time from a NOTIFY to the handler is a few round trips, and the previous
    /// batch's results ride along. Returns how many of `done` were still held (and are now done),
    /// the new batch, when it is empty the seconds until the earliest retry falls due (how long
    /// the worker may sleep), and whether the group needs `reset-snapshots` (it then takes no new
    /// events, but the deliveries it already has are still handed out and recorded).
    public func completeAdvanceAndClaim(
        group: String, owner: String, done: [UUID] = [], limit: Int, lease: Duration, maxAttempts: Int = 8
    ) async throws -> (completed: Int, batch: [EventEnvelope], nextRetry: Double?, needsReset: Bool) {
        try Self.checkName(group)
        return try await pool.withTransaction(Self.bookkeeping(lock: group)) { tx in
            let completed = done.isEmpty ? 0 : try await Self.completeAll(group: group, events: done, owner: owner, on: tx)
            let advanced = try await Self.advanceStatement(group: group, on: tx)
            let batch = try await Self.claim(group: group, owner: owner, limit: limit, lease: lease, maxAttempts: maxAttempts, on: tx)
            return (completed, batch, batch.isEmpty ? try await Self.secondsUntilNextRetry(group: group, on: tx) : nil, advanced.needsReset)
        }
    }

    /// The name format the table's CHECK enforces, checked before anything is sent.
    static func checkName(_ group: String) throws {
        let ok = (1...63).contains(group.utf8.count) && group.utf8.enumerated().allSatisfy { i, c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || (i > 0 && (c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")))
        }
        guard ok else { throw AuthError.invalidInput("group", "1–63 of a-z 0-9 . _ - starting with a letter or digit") }
    }

    /// A bookkeeping transaction: its COMMIT does not wait for the WAL flush — snapshots, claims
    /// and completions are bookkeeping: a crash that loses the last of them only repeats
    /// deliveries (at least once allows it), and on a busy server each flush wait costs
    /// milliseconds of event latency. With `lock`, the group's advisory lock is taken in the
    /// same round trip as BEGIN, in a statement before any snapshot (see `advanceStatement`).
    static func bookkeeping(lock group: String? = nil) -> PGTransactionOptions {
        PGTransactionOptions(synchronousCommit: false, advisoryLock: group.map { "authd.consumer_group.\($0)" })
    }

    /// Turns newly visible events into delivery rows. Call inside `bookkeeping(lock:)`: the lock
    /// in its own statement, the snapshot in this later one — a snapshot taken before waiting for
    /// the lock could move the group backwards.
    ///
    /// A current snapshot whose xmax is below the stored one's means transaction ids went
    /// backwards (a dump restored into a new cluster; in one cluster xmax never decreases).
    /// Storing it would skip for good every event whose id falls between, so the group is marked
    /// `needs_reset` instead and advances no more — even once the new cluster's ids pass the old
    /// ones, as ids below the mark were already reused — until `authd events reset-snapshots`
    /// re-bases it. The mark is a row update, not an error, so the rest of the caller's
    /// transaction (recorded completions, claims of deliveries already made) still commits.
    static func advanceStatement(group: String, on db: some PGQueryable) async throws -> (added: Int, needsReset: Bool) {
        let rows = try await db.query(
            """
            WITH g AS (SELECT subscriptions, last_snapshot, needs_reset FROM auth.consumer_groups WHERE name = $1),
            cur AS (SELECT pg_current_snapshot() AS s),
            check_order AS (
                SELECT g.needs_reset OR pg_snapshot_xmax(cur.s) < pg_snapshot_xmax(g.last_snapshot) AS backwards,
                       NOT g.needs_reset AND pg_snapshot_xmax(cur.s) < pg_snapshot_xmax(g.last_snapshot) AS newly
                FROM g, cur
            ),
            ins AS (
                INSERT INTO auth.event_deliveries (group_name, event_id)
                SELECT $1, e.id FROM auth.events e, g, cur, check_order
                WHERE NOT check_order.backwards
                  AND e.txid >= pg_snapshot_xmin(g.last_snapshot)
                  AND pg_visible_in_snapshot(e.txid, cur.s)
                  AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot)
                  AND \(Self.subscribed)
                ON CONFLICT DO NOTHING
                RETURNING 1
            ),
            upd AS (
                UPDATE auth.consumer_groups
                SET last_snapshot = CASE WHEN check_order.backwards THEN last_snapshot ELSE cur.s END,
                    last_advanced_at = CASE WHEN check_order.backwards THEN last_advanced_at ELSE now() END,
                    needs_reset = check_order.backwards, last_seen_at = now(), status = 'active'
                FROM cur, check_order WHERE name = $1
            )
            SELECT (SELECT count(*) FROM ins)::int8 AS added,
                   coalesce((SELECT backwards FROM check_order), false) AS backwards,
                   coalesce((SELECT newly FROM check_order), false) AS newly
            """, group)
        guard let row = rows.first else { return (0, false) }
        if try row.decode("newly", as: Bool.self) { EventMetrics.snapshotsBackwards.increment() }
        return (try row.decode("added", as: Int.self), try row.decode("backwards", as: Bool.self))
    }

    /// Whether event `e` matches one of group `g`'s subscriptions: `*`, its exact type, or a
    /// `prefix.*` pattern.
    static let subscribed = """
        EXISTS (SELECT 1 FROM unnest(g.subscriptions) p
                WHERE p = '*' OR p = e.type OR (right(p, 2) = '.*' AND starts_with(e.type, left(p, -1))))
        """

    /// `claim`, on a given connection or transaction.
    public static func claim(group: String, owner: String, limit: Int, lease: Duration, maxAttempts: Int, on db: some PGQueryable) async throws
        -> [EventEnvelope]
    {
        // An event whose workers keep dying (lease expired after every attempt) is a poison
        // event: dead-letter it rather than crash the next worker too.
        try await db.query(
            """
            UPDATE auth.event_deliveries SET status = 'dead', lease_owner = NULL, lease_until = NULL,
                last_error = 'lease expired after ' || attempts || ' attempts (worker crashed or hung)'
            WHERE group_name = $1 AND status = 'pending' AND lease_until < now() AND attempts >= $2
            """, group, maxAttempts)
        let rows = try await db.query(
            """
            WITH claimed AS (
                UPDATE auth.event_deliveries d
                SET lease_owner = $2, lease_until = now() + make_interval(secs => $3), attempts = d.attempts + 1
                WHERE (d.group_name, d.event_id) IN (
                    SELECT group_name, event_id FROM auth.event_deliveries
                    WHERE group_name = $1 AND status = 'pending' AND next_attempt_at <= now()
                      AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY created_at, event_id
                    LIMIT $4
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING d.event_id, d.attempts
            )
            SELECT \(EventEnvelope.columns), c.attempts FROM claimed c JOIN auth.events e ON e.id = c.event_id
            ORDER BY e.occurred_at, e.txid
            """, group, owner, lease.timeInterval, limit)
        return try rows.map(EventEnvelope.init(row:))
    }

    /// Extends the lease while a handler runs; false when it was lost (expired and maybe taken).
    public func renew(group: String, event: UUID, owner: String, lease: Duration) async throws -> Bool {
        try await pool.query(
            """
            UPDATE auth.event_deliveries SET lease_until = now() + make_interval(secs => $4)
            WHERE group_name = $1 AND event_id = $2 AND lease_owner = $3 AND lease_until > now() AND status = 'pending'
            """, group, event, owner, lease.timeInterval
        ).affectedRows == 1
    }

    /// Marks a delivery done — only while `owner` still holds its lease. False: the lease was
    /// lost and the result is dropped (another worker will, or did, handle the event).
    public func complete(group: String, event: UUID, owner: String) async throws -> Bool {
        try await pool.query(
            """
            UPDATE auth.event_deliveries SET status = 'done', done_at = now(), lease_owner = NULL, lease_until = NULL
            WHERE group_name = $1 AND event_id = $2 AND lease_owner = $3 AND lease_until > now() AND status = 'pending'
            """, group, event, owner
        ).affectedRows == 1
    }

    /// Marks several deliveries done in one statement, each only while `owner` holds its lease;
    /// returns how many were. Recorded even while shutting down (a cancelled task): a result
    /// counts while its lease is held.
    public func completeAll(group: String, events: [UUID], owner: String) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try await pool.withConnection(ignoringCancellation: true) { lease in
            try await Self.completeAll(group: group, events: events, owner: owner, on: lease)
        }
    }

    static func completeAll(group: String, events: [UUID], owner: String, on db: some PGQueryable) async throws -> Int {
        try await db.query(
            """
            UPDATE auth.event_deliveries SET status = 'done', done_at = now(), lease_owner = NULL, lease_until = NULL
            WHERE group_name = $1 AND event_id = ANY($2::uuid[]) AND lease_owner = $3 AND lease_until > now() AND status = 'pending'
            """, group, events.map { $0.uuidString.lowercased() }, owner
        ).affectedRows
    }

    /// Extends the leases of several claimed deliveries; returns how many were still held.
    public func renewAll(group: String, events: [UUID], owner: String, lease: Duration) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try await pool.query(
            """
            UPDATE auth.event_deliveries SET lease_until = now() + make_interval(secs => $4)
            WHERE group_name = $1 AND event_id = ANY($2::uuid[]) AND lease_owner = $3 AND lease_until > now() AND status = 'pending'
            """, group, events.map { $0.uuidString.lowercased() }, owner, lease.timeInterval
        ).affectedRows
    }

    /// Records a failed attempt: retried after `backoff`, or dead-lettered after `maxAttempts`.
    @discardableResult
    public func fail(group: String, event: UUID, owner: String, error: String, backoff: Duration, maxAttempts: Int) async throws -> Bool {
        try await pool.queryIgnoringCancellation(
            """
            UPDATE auth.event_deliveries SET lease_owner = NULL, lease_until = NULL, last_error = left($4, 2000),
                next_attempt_at = now() + make_interval(secs => $5),
                status = CASE WHEN attempts >= $6 THEN 'dead' ELSE 'pending' END
            WHERE group_name = $1 AND event_id = $2 AND lease_owner = $3 AND lease_until > now() AND status = 'pending'
            """, [group, event, owner, error, backoff.timeInterval, maxAttempts]
        ).affectedRows == 1
    }

    /// Gives a claim back unprocessed (shutdown), without counting the attempt. Runs even from a
    /// cancelled task: a give-back that is skipped leaves the lease held and the attempt counted,
    /// and enough interrupted shutdowns would dead-letter an event whose handler never failed.
    public func release(group: String, event: UUID, owner: String) async throws {
        try await pool.queryIgnoringCancellation(
            """
            UPDATE auth.event_deliveries SET lease_owner = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
            WHERE group_name = $1 AND event_id = $2 AND lease_owner = $3 AND status = 'pending'
            """, [group, event, owner])
    }

    /// `completeAll(done)` and `secondsUntilNextRetry` in one transaction: what a worker does
    /// before it sleeps. Returns how many of `done` were still held, and the seconds until the
    /// group's earliest unclaimed pending delivery is due (nil when none).
    public func completeAndNextRetry(group: String, owner: String, done: [UUID]) async throws -> (completed: Int, nextRetry: Double?) {
        try await pool.withTransaction(Self.bookkeeping()) { tx in
            let completed = done.isEmpty ? 0 : try await Self.completeAll(group: group, events: done, owner: owner, on: tx)
            return (completed, try await Self.secondsUntilNextRetry(group: group, on: tx))
        }
    }

    /// Seconds until the group's earliest unclaimed pending delivery is due (nil when none).
    public func secondsUntilNextRetry(group: String) async throws -> Double? {
        try await Self.secondsUntilNextRetry(group: group, on: pool)
    }

    static func secondsUntilNextRetry(group: String, on db: some PGQueryable) async throws -> Double? {
        try await db.query(
            """
            SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 AS s FROM auth.event_deliveries
            WHERE group_name = $1 AND status = 'pending' AND lease_until IS NULL
            """, group
        ).first?.decode("s", as: Double?.self)
    }

    /// Retention: marks groups not seen for `staleAfter` as stale (they stop holding events back),
    /// then deletes events older than `retention` that every active group has advanced past and
    /// finished. Events with a dead letter in any group are kept (retryable), and nothing is
    /// deleted while a group needs `reset-snapshots` (its snapshot no longer says what it has
    /// taken). Returns (groups marked stale, events deleted).
    @discardableResult
    public func prune(retention: Duration, staleAfter: Duration) async throws -> (stale: Int, deleted: Int) {
        let stale = try await pool.query(
            "UPDATE auth.consumer_groups SET status = 'stale' WHERE status = 'active' AND last_seen_at < now() - make_interval(secs => $1)",
            staleAfter.timeInterval
        ).affectedRows
        let deleted = try await pool.query(
            """
            DELETE FROM auth.events e
            WHERE e.occurred_at < now() - make_interval(secs => $1)
              AND NOT EXISTS (SELECT 1 FROM auth.consumer_groups WHERE needs_reset)
              AND NOT EXISTS (SELECT 1 FROM auth.consumer_groups g
                              WHERE g.status = 'active' AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot))
              AND NOT EXISTS (SELECT 1 FROM auth.event_deliveries d JOIN auth.consumer_groups g ON g.name = d.group_name
                              WHERE d.event_id = e.id AND (d.status = 'dead' OR (d.status = 'pending' AND g.status = 'active')))
            """, retention.timeInterval
        ).affectedRows
        return (stale, deleted)
    }

    /// Re-bases groups after the database was restored into a new cluster (transaction ids
    /// started lower, so stored snapshots lie ahead and `advance` refuses): every subscribed
    /// event a group has no delivery row for and had not taken — not visible in its stored
    /// snapshot (written before the dump, not yet advanced) or written after its last advance
    /// (written since the restore; by the wall clock, so the clusters' clocks must agree) —
    /// becomes a delivery now, and the group's snapshot becomes the
    /// new cluster's current one. Safe to run on a healthy database (it then only does what the
    /// next advance would). Returns each group with the deliveries it gained.
    public func resetSnapshots(group only: String? = nil) async throws -> [(group: String, requeued: Int)] {
        if let only { try Self.checkName(only) }
        let names = try await pool.query(
            "SELECT name FROM auth.consumer_groups WHERE $1::text IS NULL OR name = $1 ORDER BY name", only
        ).map { try $0.decode("name", as: String.self) }
        var out: [(String, Int)] = []
        for name in names {
            let requeued = try await pool.withTransaction(Self.bookkeeping(lock: name)) { tx in
                try await tx.query(
                    """
                    WITH g AS (
                        SELECT subscriptions, last_snapshot, coalesce(last_advanced_at, created_at) AS advanced_at
                        FROM auth.consumer_groups WHERE name = $1
                    ),
                    ins AS (
                        INSERT INTO auth.event_deliveries (group_name, event_id)
                        SELECT $1, e.id FROM auth.events e, g
                        WHERE (NOT pg_visible_in_snapshot(e.txid, g.last_snapshot) OR e.occurred_at > g.advanced_at)
                          AND NOT EXISTS (SELECT 1 FROM auth.event_deliveries d WHERE d.group_name = $1 AND d.event_id = e.id)
                          AND \(Self.subscribed)
                        ON CONFLICT DO NOTHING
                        RETURNING 1
                    ),
                    upd AS (
                        UPDATE auth.consumer_groups
                        SET last_snapshot = pg_current_snapshot(), last_seen_at = now(), last_advanced_at = now(), status = 'active',
                            needs_reset = false
                        WHERE name = $1
                    )
                    SELECT count(*)::int8 AS added FROM ins
                    """, name
                ).first?.decode("added", as: Int.self) ?? 0
            }
            out.append((name, requeued))
        }
        return out
    }

    /// Removes a group and its delivery rows (explicit: `authd events drop-group`).
    public func drop(group: String) async throws -> Bool {
        try await pool.query("DELETE FROM auth.consumer_groups WHERE name = $1", group).affectedRows == 1
    }

    /// One line of `authd events status`.
    public struct GroupStatus: Sendable {
        public var name: String
        public var status: String
        /// Transaction ids went backwards: the group takes no new events until `reset-snapshots`.
        public var needsReset: Bool
        public var subscriptions: [String]
        public var lastSeenAt: Date
        /// Committed events the group has not advanced over yet (any type).
        public var unadvanced: Int
        public var pending: Int
        public var dead: Int
        public var oldestPendingAt: Date?
    }

    /// Every group with its lag and dead letters.
    public func status() async throws -> [GroupStatus] {
        try await pool.query(
            """
            SELECT g.name, g.status, g.needs_reset, g.subscriptions, g.last_seen_at,
                   (SELECT count(*) FROM auth.events e WHERE e.txid >= pg_snapshot_xmin(g.last_snapshot)
                      AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot))::int8 AS unadvanced,
                   (SELECT count(*) FROM auth.event_deliveries d WHERE d.group_name = g.name AND d.status = 'pending')::int8 AS pending,
                   (SELECT count(*) FROM auth.event_deliveries d WHERE d.group_name = g.name AND d.status = 'dead')::int8 AS dead,
                   (SELECT min(d.created_at) FROM auth.event_deliveries d WHERE d.group_name = g.name AND d.status = 'pending') AS oldest
            FROM auth.consumer_groups g ORDER BY g.name
            """
        ).map { row in
            GroupStatus(
                name: try row.decode("name"), status: try row.decode("status"), needsReset: try row.decode("needs_reset"), subscriptions: try row.decode("subscriptions"),
                lastSeenAt: try row.decode("last_seen_at"), unadvanced: try row.decode("unadvanced"), pending: try row.decode("pending"),
                dead: try row.decode("dead"), oldestPendingAt: try row.decode("oldest", as: Date?.self))
        }
    }

    /// Puts a dead-lettered delivery back in the queue (`authd events retry`).
    public func retry(group: String, event: UUID) async throws -> Bool {
        try await pool.query(
            """
            UPDATE auth.event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
            WHERE group_name = $1 AND event_id = $2 AND status = 'dead'
            """, group, event
        ).affectedRows == 1
    }
}
