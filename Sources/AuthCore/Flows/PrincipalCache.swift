#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The session and user an access token resolved to, kept until the token expires, so a guarded
/// request needs no database read while this process's `RevocationSet` is in sync.
///
/// What it serves is the state as of the token's first use — as stable as the token's own
/// claims: revocation (logout, reuse, a disabled or deleted user) reaches every process through
/// the revocation broadcast and is checked before this cache on every request.
final class PrincipalCache: Sendable {
    struct Entry {
        var session: Session
        var user: User
        var expiresAt: Date
    }

    /// Entries at most; past it, the least recently used goes.
    static let limit = 20_000
    private let entries: Mutex<LRUCache<String, Entry>>

    init(limit: Int = PrincipalCache.limit) {
        entries = Mutex(LRUCache(capacity: limit))
    }

    func get(_ token: String, now: Date) -> (Session, User)? {
        entries.withLock { cache in
            guard let entry = cache.get(token) else { return nil }
            guard entry.expiresAt > now else {
                cache.remove(token)
                return nil
            }
            return (entry.session, entry.user)
        }
    }

    func put(_ token: String, session: Session, user: User, expiresAt: Date) {
        entries.withLock { $0.set(token, Entry(session: session, user: user, expiresAt: expiresAt)) }
    }

    /// How many entries are held (for tests).
    var count: Int { entries.withLock { $0.count } }

    /// Whether `token` is held, without counting as a use (for tests).
    func holds(_ token: String) -> Bool { entries.withLock { $0.contains(token) } }
}
