import AuthHTTP
import Hummingbird
import Logging
import Metrics
import PGKit
import Prometheus
import ServiceLifecycle
import Synchronization

/// swift-metrics backed by Prometheus for this process, and the `/metrics` route that shows it:
/// on the main HTTP port, or on `AUTH_METRICS_PORT` alone when that is set (a port a firewall can
/// keep private). `authd listen` serves it only on that port.
enum MetricsExporter {
    /// Bootstrapped on first use; `MetricsSystem.bootstrap` may run once per process.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitize(name, allowColon: true), labels.map { (sanitize($0.0, allowColon: false), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Must run before any metric is made (metrics made earlier stay no-ops).
    static func bootstrap() { _ = registry }

    /// Pools whose counters `/metrics` brings up to date before it renders (see `watch`).
    private static let pools = Mutex<[PoolMetrics]>([])

    /// Shows `pool`'s counters (`PoolMetrics`) on `/metrics` from now on. Once per pool: two
    /// watchers of one pool would add each change twice to the same series.
    static func watch(_ pool: PGPool) {
        bootstrap()
        pools.withLock { pools in
            guard !pools.contains(where: { $0.pool === pool }) else { return }
            pools.append(PoolMetrics(pool: pool))
        }
    }

    static var route: MetricsRoute {
        let registry = registry
        return MetricsRoute {
            for pool in pools.withLock({ $0 }) { pool.update() }
            return registry.emitToBuffer()
        }
    }

    /// A server for `/metrics` alone on `port`, as a service to run beside the others.
    static func server(host: String, port: Int, logger: Logger) -> some Service {
        let router = Router()
        route.register(on: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "authd-metrics"), logger: logger)
    }

    /// Prometheus names allow `[a-zA-Z0-9_:]` (labels no colon): anything else becomes `_`
    /// (Hummingbird and other libraries use dotted names).
    static func sanitize(_ name: String, allowColon: Bool) -> String {
        String(name.unicodeScalars.map { c -> Character in
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || (allowColon && c == ":")
            return ok ? Character(c) : "_"
        })
    }
}
