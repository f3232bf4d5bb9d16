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

    static let limit = 10_000
    private let entries = Mutex<[String: Entry]>([:])

    func get(_ token: String, now: Date) -> (Session, User)? {
        entries.withLock { cache in
            guard let entry = cache[token] else { return nil }
            guard entry.expiresAt > now else {
                cache[token] = nil
                return nil
            }
            return (entry.session, entry.user)
        }
    }

    func put(_ token: String, session: Session, user: User, expiresAt: Date) {
        entries.withLock { cache in
            // Bounded: when full, start over (each entry costs one database read to rebuild).
            if cache.count >= Self.limit { cache.removeAll(keepingCapacity: true) }
            cache[token] = Entry(session: session, user: user, expiresAt: expiresAt)
        }
    }
}
