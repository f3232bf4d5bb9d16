/// libpq connection settings that bound how long a dead or unreachable database can hold the
/// follower: without them a connect to a blackholed host waits minutes and a read on a
/// half-open socket ~15 minutes (TCP retries), while every request is refused as out of sync.
enum ConnInfo {
    static let defaults: KeyValuePairs<String, String> = [
        "connect_timeout": "5", "keepalives_idle": "5", "keepalives_interval": "2", "keepalives_count": "3",
        "tcp_user_timeout": "10000",
    ]

    /// `conninfo` (keyword form or a `postgres://` URI) with each default the operator did not set.
    static func withDefaults(_ conninfo: String) -> String {
        let isURI = conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://")
        var out = conninfo
        for (key, value) in defaults where !conninfo.contains(key + "=") {
            if isURI {
                out += (out.contains("?") ? "&" : "?") + "\(key)=\(value)"
            } else {
                out += " \(key)=\(value)"
            }
        }
        return out
    }
}
