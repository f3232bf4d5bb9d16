/// What authd's pool and tenant cache did over some passes, from `/metrics` read before and
/// after them (`authd_pg_leases_total`, `authd_pg_statements_total`, see `PoolMetrics` in authd;
/// `authd_tenant_lookups_total`).
struct PoolShares {
    let homes: String
    /// Statements found prepared, as a share of all sent.
    let reused: String
    let tenantsFromMemory: String
    let prepares: Int
    let deallocated: Int

    init(before: [String: Double], after: [String: Double]) {
        func delta(_ series: String) -> Double { (after[series] ?? 0) - (before[series] ?? 0) }
        let home = delta(#"authd_pg_leases_total{connection="home"}"#)
        let other = delta(#"authd_pg_leases_total{connection="other"}"#)
        let hits = delta(#"authd_pg_statements_total{plan="reused"}"#)
        let prepare = delta(#"authd_pg_statements_total{plan="prepared"}"#)
        let unnamed = delta(#"authd_pg_statements_total{plan="unnamed"}"#)
        homes = Self.percent(home, of: home + other)
        reused = Self.percent(hits, of: hits + prepare + unnamed)
        let memory = delta(#"authd_tenant_lookups_total{source="memory"}"#)
        let database = delta(#"authd_tenant_lookups_total{source="database"}"#)
        tenantsFromMemory = Self.percent(memory, of: memory + database)
        prepares = Int(prepare)
        deallocated = Int(delta("authd_pg_statements_deallocated_total"))
    }

    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? "\(Int((part / whole * 100).rounded())) %" : "–"
    }
}
