/// "At most `limit` per `period`": a GCRA bucket (generic cell rate algorithm) that lets `burst`
/// requests through at once (`limit` unless given), then one every `period / limit`. Over any
/// window of length `period` it lets through at most `limit + burst`; login's per-identifier
/// rule (`RateLimits.identifierRule`) is built so that this bound is the hard cap.
public struct RateLimitRule: Sendable, Equatable, CustomStringConvertible {
    public var limit: Int
    public var period: Duration
    public var burst: Int

    public init(_ limit: Int, per period: Duration, burst: Int? = nil) {
        self.limit = limit
        self.period = period
        self.burst = max(1, burst ?? limit)
    }

    /// Seconds between two requests at the sustained rate.
    var emissionSeconds: Double { period.timeInterval / Double(max(limit, 1)) }
    /// How far ahead of now the bucket may run before it refuses (room for `burst` at once).
    var toleranceSeconds: Double { Double(burst - 1) * emissionSeconds }

    /// Parses `N/period` with the period in seconds or with a unit: `60/1m`, `5/10m`, `100/1h`, `10/30s`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let limit = Int(parts[0]), limit >= 1, limit <= 1_000_000 else { return nil }
        var amount = Substring(parts[1])
        var unit = 1
        switch amount.last {
        case "s": amount.removeLast()
        case "m": amount.removeLast(); unit = 60
        case "h": amount.removeLast(); unit = 3600
        case "d": amount.removeLast(); unit = 86_400
        default: break
        }
        guard let n = Int(amount), n >= 1, n <= 31 * 86_400 / unit else { return nil }
        self.init(limit, per: .seconds(n * unit))
    }

    public var description: String { "\(limit)/\(period.wholeSeconds)s" }
}
