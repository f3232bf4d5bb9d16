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
    @discardableResult
    public func advance(group: String) async throws -> Int {
        try Self.checkName(group)
        return try await pool.withBlockingConnection { conn in try Self.advance(group: group, on: conn) }
    }

    /// Claims up to `limit` due deliveries for `owner` until `lease` from now, oldest first;
    /// rows another worker holds are skipped, not waited for.
    public func claim(group: String, owner: String, limit: Int, lease: Duration, maxAttempts: Int = 8) async throws -> [EventEnvelope] {
        try Self.checkName(group)
        return try await pool.withBlockingConnection { conn in
            try Self.claim(group: group, owner: owner, limit: limit, lease: lease, maxAttempts: maxAttempts, on: conn)
        }
    }

    /// `completeAll(done)`, `advance` and `claim` in one pool-thread hop: what a worker does on
    /// every pass, so the time from a NOTIFY to the handler is a few round trips and no thread
    /// switches, and the previous batch's results ride along. Returns how many of `done` were
    /// still held (and are now done), the new batch, and — when it is empty — the seconds until
    /// the earliest retry falls due (how long the worker may sleep).
    public func completeAdvanceAndClaim(
        group: String, owner: String, done: [UUID] = [], limit: Int, lease: Duration, maxAttempts: Int = 8
    ) async throws -> (completed: Int, batch: [EventEnvelope], nextRetry: Double?) {
        try Self.checkName(group)
        return try await pool.withBlockingConnection { conn in
            try Self.bookkeeping(conn, lockGroup: group) {
                let completed = done.isEmpty ? 0 : try Self.completeAll(group: group, events: done, owner: owner, on: conn)
                _ = try Self.advanceStatement(group: group, on: conn)
                let batch = try Self.claim(group: group, owner: owner, limit: limit, lease: lease, maxAttempts: maxAttempts, on: conn)
                return (completed, batch, batch.isEmpty ? try Self.secondsUntilNextRetry(group: group, on: conn) : nil)
            }
        }
    }

    /// The name format the table's CHECK enforces, checked first: it lets the advisory-lock
    /// statement carry the name as a literal and share a round trip with BEGIN.
    static func checkName(_ group: String) throws {
        let ok = (1...63).contains(group.utf8.count) && group.utf8.enumerated().allSatisfy { i, c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || (i > 0 && (c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")))
        }
        guard ok else { throw AuthError.invalidInput("group", "1–63 of a-z 0-9 . _ - starting with a letter or digit") }
    }

    /// Runs `body` in one transaction whose COMMIT does not wait for the WAL flush: snapshots,
    /// claims and completions are bookkeeping — a crash that loses the last of them only repeats
    /// deliveries (at least once allows it) — and on a busy server each flush wait costs
    /// milliseconds of event latency. With `lockGroup`, the group's advisory lock is taken in the
    /// same round trip as BEGIN (the name is checked by `checkName`, so it can be a literal).
    static func bookkeeping<T>(_ conn: PGConnection, lockGroup: String? = nil, _ body: () throws -> T) throws -> T {
        var begin = "BEGIN; SET LOCAL synchronous_commit = off"
        if let group = lockGroup { begin += "; SELECT pg_advisory_xact_lock(hashtextextended('authd.consumer_group.\(group)', 0))" }
        try conn.execute(begin)
        do {
            let value = try body()
            let commit = try conn.execute("COMMIT")
            guard commit.commandStatus == "COMMIT" else { throw PGError(.commitRolledBack, "bookkeeping rolled back", sqlState: "25P02") }
            return value
        } catch {
            if conn.isOK, conn.inTransaction { _ = try? conn.execute("ROLLBACK") }
            throw error
        }
    }

    /// Turns newly visible events into delivery rows. Call inside `bookkeeping(lockGroup:)`: the
    /// lock in its own statement, the snapshot in this later one — a snapshot taken before
    /// waiting for the lock could move the group backwards.
    static func advanceStatement(group: String, on conn: PGConnection) throws -> Int {
        let rows = try conn.query(
            """
            WITH g AS (SELECT subscriptions, last_snapshot FROM auth.consumer_groups WHERE name = $1),
            cur AS (SELECT pg_current_snapshot() AS s),
            ins AS (
                INSERT INTO auth.event_deliveries (group_name, event_id)
                SELECT $1, e.id FROM auth.events e, g, cur
                WHERE e.txid >= pg_snapshot_xmin(g.last_snapshot)
                  AND pg_visible_in_snapshot(e.txid, cur.s)
                  AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot)
                  AND EXISTS (SELECT 1 FROM unnest(g.subscriptions) p
                              WHERE p = '*' OR p = e.type OR (right(p, 2) = '.*' AND starts_with(e.type, left(p, -1))))
                ON CONFLICT DO NOTHING
                RETURNING 1
            ),
            upd AS (
                UPDATE auth.consumer_groups SET last_snapshot = cur.s, last_seen_at = now(), status = 'active' FROM cur WHERE name = $1
            )
            SELECT count(*)::int8 AS added FROM ins
            """, [group.pgBind])
        return try rows.first?.decode("added", as: Int.self) ?? 0
    }

    static func advance(group: String, on conn: PGConnection) throws -> Int {
        try bookkeeping(conn, lockGroup: group) { try advanceStatement(group: group, on: conn) }
    }

    static func claim(group: String, owner: String, limit: Int, lease: Duration, maxAttempts: Int, on conn: PGConnection) throws -> [EventEnvelope] {
        // An event whose workers keep dying (lease expired after every attempt) is a poison
        // event: dead-letter it rather than crash the next worker too.
        try conn.query(
            """
            UPDATE auth.event_deliveries SET status = 'dead', lease_owner = NULL, lease_until = NULL,
                last_error = 'lease expired after ' || attempts || ' attempts (worker crashed or hung)'
            WHERE group_name = $1 AND status = 'pending' AND lease_until < now() AND attempts >= $2
            """, [group.pgBind, maxAttempts.pgBind])
        let rows = try conn.query(
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
            """, [group.pgBind, owner.pgBind, lease.timeInterval.pgBind, limit.pgBind])
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
    /// returns how many were.
    public func completeAll(group: String, events: [UUID], owner: String) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        // Results are recorded even while shutting down (cancelled): they count while the lease holds.
        return try await pool.withBlockingConnection(ignoringCancellation: true) { conn in
            try Self.completeAll(group: group, events: events, owner: owner, on: conn)
        }
    }

    static func completeAll(group: String, events: [UUID], owner: String, on conn: PGConnection) throws -> Int {
        try conn.query(
            """
            UPDATE auth.event_deliveries SET status = 'done', done_at = now(), lease_owner = NULL, lease_until = NULL
            WHERE group_name = $1 AND event_id = ANY($2::uuid[]) AND lease_owner = $3 AND lease_until > now() AND status = 'pending'
            """, [group.pgBind, events.map { $0.uuidString.lowercased() }.pgBind, owner.pgBind]
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

    /// Seconds until the group's earliest unclaimed pending delivery is due (nil when none).
    /// `completeAll(done)` and `secondsUntilNextRetry` in one hop: what a worker does before it
    /// sleeps. Returns how many of `done` were still held, and the seconds until the next retry.
    public func completeAndNextRetry(group: String, owner: String, done: [UUID]) async throws -> (completed: Int, nextRetry: Double?) {
        try await pool.withBlockingConnection { conn in
            try Self.bookkeeping(conn) {
                let completed = done.isEmpty ? 0 : try Self.completeAll(group: group, events: done, owner: owner, on: conn)
                return (completed, try Self.secondsUntilNextRetry(group: group, on: conn))
            }
        }
    }

    public func secondsUntilNextRetry(group: String) async throws -> Double? {
        try await pool.withBlockingConnection { conn in try Self.secondsUntilNextRetry(group: group, on: conn) }
    }

    static func secondsUntilNextRetry(group: String, on conn: PGConnection) throws -> Double? {
        try conn.query(
            """
            SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 AS s FROM auth.event_deliveries
            WHERE group_name = $1 AND status = 'pending' AND lease_until IS NULL
            """, [group.pgBind]
        ).first?.decode("s", as: Double?.self)
    }

    /// Retention: marks groups not seen for `staleAfter` as stale (they stop holding events back),
    /// then deletes events older than `retention` that every active group has advanced past and
    /// finished. Events with a dead letter in any group are kept (retryable). Returns
    /// (groups marked stale, events deleted).
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
              AND NOT EXISTS (SELECT 1 FROM auth.consumer_groups g
                              WHERE g.status = 'active' AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot))
              AND NOT EXISTS (SELECT 1 FROM auth.event_deliveries d JOIN auth.consumer_groups g ON g.name = d.group_name
                              WHERE d.event_id = e.id AND (d.status = 'dead' OR (d.status = 'pending' AND g.status = 'active')))
            """, retention.timeInterval
        ).affectedRows
        return (stale, deleted)
    }

    /// Forgets one-time secrets that are of no more use: expired, or taken by every active group
    /// (advanced past) with no delivery of the event still pending or dead (a retry would need
    /// it). Returns how many were purged.
    @discardableResult
    public func purgeSecrets() async throws -> Int {
        try await pool.query(
            """
            UPDATE auth.events e SET sealed_secret = NULL
            WHERE e.sealed_secret IS NOT NULL
              AND (e.secret_expires_at < now()
                   OR (NOT EXISTS (SELECT 1 FROM auth.consumer_groups g
                                   WHERE g.status = 'active' AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot))
                       AND NOT EXISTS (SELECT 1 FROM auth.event_deliveries d JOIN auth.consumer_groups g ON g.name = d.group_name
                                       WHERE d.event_id = e.id AND (d.status = 'dead' OR (d.status = 'pending' AND g.status = 'active')))))
            """
        ).affectedRows
    }

    /// Removes a group and its delivery rows (explicit: `authd events drop-group`).
    public func drop(group: String) async throws -> Bool {
        try await pool.query("DELETE FROM auth.consumer_groups WHERE name = $1", group).affectedRows == 1
    }

    /// One line of `authd events status`.
    public struct GroupStatus: Sendable {
        public var name: String
        public var status: String
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
            SELECT g.name, g.status, g.subscriptions, g.last_seen_at,
                   (SELECT count(*) FROM auth.events e WHERE e.txid >= pg_snapshot_xmin(g.last_snapshot)
                      AND NOT pg_visible_in_snapshot(e.txid, g.last_snapshot))::int8 AS unadvanced,
                   (SELECT count(*) FROM auth.event_deliveries d WHERE d.group_name = g.name AND d.status = 'pending')::int8 AS pending,
                   (SELECT count(*) FROM auth.event_deliveries d WHERE d.group_name = g.name AND d.status = 'dead')::int8 AS dead,
                   (SELECT min(d.created_at) FROM auth.event_deliveries d WHERE d.group_name = g.name AND d.status = 'pending') AS oldest
            FROM auth.consumer_groups g ORDER BY g.name
            """
        ).map { row in
            GroupStatus(
                name: try row.decode("name"), status: try row.decode("status"), subscriptions: try row.decode("subscriptions"),
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
