@testable import AuthCore
import Testing

/// The pure parts of the abuse controls: addresses, trusted proxies, rule parsing and the GCRA
/// bound the per-account cap relies on.
@Suite struct AbusePrimitivesTests {
    @Test func addressesParseAndIPv4MappedIsIPv4() {
        #expect(IPAddress("192.0.2.1")?.description == "192.0.2.1")
        #expect(IPAddress("::ffff:192.0.2.1")?.description == "192.0.2.1")
        #expect(IPAddress("2001:db8::1")?.isIPv4 == false)
        #expect(IPAddress("2001:db8:1:2:3:4:5:6")?.rateLimitSubject == "2001:db8:1:2::/64")
        for bad in ["", "example.com", "192.0.2.1:80", "1.2.3", "fe80::1%eth0", "192.0.2.1\u{0}"] { #expect(IPAddress(bad) == nil) }
    }

    @Test func clientAddressTrustsOnlyConfiguredProxies() throws {
        let none = TrustedProxies()
        #expect(none.clientAddress(peer: "10.0.0.5", forwardedFor: "203.0.113.1") == "10.0.0.5")
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 2001:db8::/32")
        // An untrusted peer's header is ignored.
        #expect(proxies.clientAddress(peer: "198.51.100.7", forwardedFor: "203.0.113.1") == "198.51.100.7")
        // Rightmost untrusted entry; what the client wrote to its left proves nothing.
        #expect(proxies.clientAddress(peer: "10.0.0.5", forwardedFor: "1.1.1.1, 203.0.113.1, 10.1.1.1") == "203.0.113.1")
        // Every hop trusted: the leftmost.
        #expect(proxies.clientAddress(peer: "10.0.0.5", forwardedFor: "10.2.2.2, 10.1.1.1") == "10.2.2.2")
        // Garbage stops the walk at the last trusted hop.
        #expect(proxies.clientAddress(peer: "10.0.0.5", forwardedFor: "203.0.113.1, unknown") == "10.0.0.5")
        #expect(proxies.clientAddress(peer: "2001:db8::5", forwardedFor: "2001:db9::1") == "2001:db9::1")
        #expect(proxies.clientAddress(peer: "10.0.0.5", forwardedFor: nil) == "10.0.0.5")
        #expect(throws: TrustedProxies.InvalidEntry.self) { try TrustedProxies(parsing: "10.0.0.0/33") }
        #expect(throws: TrustedProxies.InvalidEntry.self) { try TrustedProxies(parsing: "proxy.internal") }
    }

    @Test func rulesParse() {
        #expect(RateLimitRule(parsing: "60/1m") == RateLimitRule(60, per: .seconds(60)))
        #expect(RateLimitRule(parsing: "5/600") == RateLimitRule(5, per: .seconds(600)))
        #expect(RateLimitRule(parsing: "100/1h") == RateLimitRule(100, per: .seconds(3600)))
        for bad in ["", "0/1m", "-1/1m", "5", "5/", "5/0s", "5/1w", "x/1m"] { #expect(RateLimitRule(parsing: bad) == nil) }
    }

    /// The per-account rule lets through at most `passwordChecksPerAccountPerHour` in any hour,
    /// simulated with the same arithmetic the SQL statement does, against a client that retries
    /// as soon as it is allowed.
    @Test func thePerAccountRuleAdmitsAtMostTheCapInAnyHour() throws {
        var limits = RateLimits()
        limits.passwordChecksPerAccountPerHour = 100
        let rule = try #require(limits.identifierRule(.login))
        var tat = 0.0
        var admitted: [Double] = []
        var now = 0.0
        while now < 5 * 3600 {
            if max(tat, now) <= now + rule.toleranceSeconds {
                tat = max(tat, now) + rule.emissionSeconds
                admitted.append(now)
            }
            now += 0.5
        }
        var worst = 0
        for (i, start) in admitted.enumerated() {
            worst = max(worst, admitted[i...].prefix { $0 < start + 3600 }.count)
        }
        #expect(worst <= 100 && worst >= 95)
        #expect(rule.burst == 10)
    }
}
