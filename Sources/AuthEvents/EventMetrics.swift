import Metrics

/// The consumer side's own metrics (made once; see `AuthMetrics` for why).
enum EventMetrics {
    /// Advances refused because the database's transaction ids went backwards (a restore): the
    /// operator must run `authd events reset-snapshots`.
    static let snapshotsBackwards = Counter(label: "authd_event_snapshots_backwards_total")
}
