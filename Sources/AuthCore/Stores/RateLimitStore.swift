import PGKit

/// `auth.rate_limits`: GCRA buckets shared by every authd process, judged by the database's clock.
public struct RateLimitStore: Sendable {
    /// One bucket to take from: its key (a hex SHA-256) and rule.
    public struct Take: Sendable {
        public var key: String
        public var rule: RateLimitRule
    }

    public init() {}

    /// Takes one request from every bucket in one statement; returns, for each refused bucket,
    /// the seconds until it lets a request through again (empty: all allowed). Rows are locked in
    /// key order, so two requests naming the same buckets cannot deadlock.
    ///
    /// GCRA: a bucket holds its theoretical arrival time `tat`; a request at `now` is allowed
    /// when `max(tat, now) ≤ now + tolerance`, and then moves `tat` on by one emission interval.
    public func take(_ buckets: [Take], on db: some PGQueryable) async throws -> [Double] {
        guard !buckets.isEmpty else { return [] }
        let rows = try await db.query(
            """
            INSERT INTO auth.rate_limits AS r (key, tat, tolerance, allowed)
            SELECT decode(k.key, 'hex'), now() + make_interval(secs => k.emission), k.tolerance, true
            FROM unnest($1::text[], $2::text[]::float8[], $3::text[]::float8[]) AS k(key, emission, tolerance)
            ORDER BY 1
            ON CONFLICT (key) DO UPDATE SET
                allowed = greatest(r.tat, now()) <= now() + make_interval(secs => excluded.tolerance),
                tat = CASE WHEN greatest(r.tat, now()) <= now() + make_interval(secs => excluded.tolerance)
                           THEN greatest(r.tat, now()) + (excluded.tat - now()) ELSE r.tat END,
                tolerance = excluded.tolerance
            RETURNING allowed, extract(epoch FROM r.tat - now())::float8 - r.tolerance AS wait
            """,
            buckets.map(\.key), buckets.map { String($0.rule.emissionSeconds) }, buckets.map { String($0.rule.toleranceSeconds) })
        var waits: [Double] = []
        for row in rows where try !row.decode("allowed", as: Bool.self) {
            waits.append(try row.decode("wait", as: Double.self))
        }
        return waits
    }

    /// Deletes buckets that have drained (a `tat` in the past is the same as no row).
    @discardableResult
    public func prune(on db: some PGQueryable) async throws -> Int {
        try await db.query(
            """
            WITH gone AS (
                DELETE FROM auth.rate_limits WHERE key IN (SELECT key FROM auth.rate_limits WHERE tat < now() LIMIT 10000)
                RETURNING 1
            ) SELECT count(*)::int AS n FROM gone
            """
        ).first?.decode("n", as: Int.self) ?? 0
    }
}
