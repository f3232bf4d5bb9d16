import Metrics
import PGKit
import Synchronization

/// A pool's own counters (`PGPoolStatistics`) as Prometheus counters, brought up to date each
/// time `/metrics` is read: PGKit counts with plain atomics and knows nothing of swift-metrics.
/// - `authd_pg_leases_total{connection="home"|"other"}`: leases for a tenant's work that met one
///   of the tenant's two home connections, or not (each server process caches plans and
///   relations for the tenants it serves: misses spread tenants over every process);
/// - `authd_pg_statements_total{plan="reused"|"prepared"|"unnamed"}`: statements run already
///   prepared, prepared then run, or parsed and planned for one run;
/// - `authd_pg_statements_deallocated_total`: prepared statements dropped to make room or gone
///   stale (a table changed under them);
/// - `authd_pg_connections_retired_total`: connections replaced after serving
///   `AUTH_DATABASE_CONNECTION_MAX_AGE_SECONDS`.
final class PoolMetrics: Sendable {
    let pool: PGPool
    /// What the counters last showed, so each update adds only what happened since.
    private let last = Mutex(PGPoolStatistics.Snapshot())
    private let homeLeases = Counter(label: "authd_pg_leases_total", dimensions: [("connection", "home")])
    private let otherLeases = Counter(label: "authd_pg_leases_total", dimensions: [("connection", "other")])
    private let reused = Counter(label: "authd_pg_statements_total", dimensions: [("plan", "reused")])
    private let prepared = Counter(label: "authd_pg_statements_total", dimensions: [("plan", "prepared")])
    private let unnamed = Counter(label: "authd_pg_statements_total", dimensions: [("plan", "unnamed")])
    private let deallocated = Counter(label: "authd_pg_statements_deallocated_total")
    private let retired = Counter(label: "authd_pg_connections_retired_total")

    init(pool: PGPool) {
        self.pool = pool
    }

    /// Adds what the pool counted since the last update (under the lock, so two scrapes at once
    /// never count the same lease twice; each counter only grows, so no amount is negative).
    func update() {
        last.withLock { last in
            let now = pool.statistics.snapshot
            homeLeases.increment(by: Int64(now.homeHits - last.homeHits))
            otherLeases.increment(by: Int64(now.homeMisses - last.homeMisses))
            reused.increment(by: Int64(now.statementsReused - last.statementsReused))
            prepared.increment(by: Int64(now.statementsPrepared - last.statementsPrepared))
            unnamed.increment(by: Int64(now.statementsUnnamed - last.statementsUnnamed))
            deallocated.increment(by: Int64(now.statementsDeallocated - last.statementsDeallocated))
            retired.increment(by: Int64(now.connectionsRetired - last.connectionsRetired))
            last = now
        }
    }
}
