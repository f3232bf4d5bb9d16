@testable import AuthCore
import Foundation
import Testing

/// The principal cache keeps what was used recently (least recently used goes first), never
/// holds more than its limit, and never serves an expired entry.
@Suite struct PrincipalCacheTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func principal() -> (Session, User) {
        let user = User(id: UUID(), email: "a@example.test", phone: nil, createdAt: now, updatedAt: now)
        return (Session(apiKey: UUID(), userID: user.id, now: now), user)
    }

    static func put(_ cache: PrincipalCache, _ token: String, expiresIn seconds: Double = 600) -> (Session, User) {
        let (session, user) = principal()
        cache.put(token, session: session, user: user, expiresAt: now + seconds)
        return (session, user)
    }

    @Test func aWorkingSetAsLargeAsTheLimitStaysInAfterTheFirstPass() {
        let cache = PrincipalCache(limit: 100)
        for i in 0..<100 { _ = Self.put(cache, "t\(i)") }
        // Round after round over all 100: every lookup hits (the cache emptied itself when full
        // before, and a two-generation cache would miss here from its first rotation on).
        for _ in 0..<3 {
            for i in 0..<100 { #expect(cache.get("t\(i)", now: Self.now) != nil, "t\(i)") }
        }
        #expect(cache.count <= 100)
    }

    @Test func theTokensUsedLastStayAndTheLimitHolds() {
        // Random puts and gets over three times as many tokens as the cache holds: after every
        // step the limit holds and the ten tokens used last are all there.
        let cache = PrincipalCache(limit: 10)
        var generator = SystemRandomNumberGenerator()
        var recency: [String] = []
        for _ in 0..<2000 {
            let token = "t\(Int.random(in: 0..<30, using: &generator))"
            if Bool.random(using: &generator) || !cache.holds(token) {
                _ = Self.put(cache, token)
            } else {
                #expect(cache.get(token, now: Self.now) != nil)
            }
            recency.removeAll { $0 == token }
            recency.append(token)
            #expect(cache.count <= 10)
            for recent in recency.suffix(10) { #expect(cache.holds(recent), "\(recent)") }
        }
        // And one not used for a full limit of other tokens is gone.
        _ = Self.put(cache, "old")
        for i in 0..<10 { _ = Self.put(cache, "new\(i)") }
        #expect(!cache.holds("old"))
    }

    @Test func anExpiredEntryIsNeverServed() {
        let cache = PrincipalCache(limit: 10)
        _ = Self.put(cache, "short", expiresIn: 1)
        #expect(cache.get("short", now: Self.now) != nil)
        #expect(cache.get("short", now: Self.now + 1) == nil)
        // An expired entry found is dropped, not kept as recently used.
        #expect(!cache.holds("short"))
    }

    @Test func aPutReplacesTheEntry() {
        let cache = PrincipalCache(limit: 4)
        _ = Self.put(cache, "a")
        _ = Self.put(cache, "b")
        _ = Self.put(cache, "c")
        let (session, _) = Self.put(cache, "a")
        #expect(cache.get("a", now: Self.now)?.0 == session)
        #expect(cache.count == 3)
    }
}
