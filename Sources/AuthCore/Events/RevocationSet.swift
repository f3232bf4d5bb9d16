#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PGKit
import ServiceLifecycle
import Synchronization

/// The revoked session ids this process knows of, each kept until the access tokens that name
/// it have expired. Fed by `NOTIFY auth_revocations`; on every resync (first subscription,
/// reconnect, overflow) it reloads `auth.revocations`, so a missed broadcast is caught up.
public final class RevocationSet: Service, Sendable {
    private let revoked = Mutex<[UUID: Date]>([:])
    private let synced = Mutex(false)
    let pool: PGPool
    let listener: PGListener
    let retention: Duration
    let logger: Logger

    /// - Parameter retention: how long an id is kept (the access-token lifetime).
    public init(pool: PGPool, listener: PGListener, retention: Duration, logger: Logger = Logger(label: "authd.revocations")) {
        self.pool = pool
        self.listener = listener
        self.retention = retention
        self.logger = logger
    }

    /// True when the session was revoked (as far as this process has heard).
    public func contains(_ sessionID: UUID) -> Bool {
        revoked.withLock { $0[sessionID] != nil }
    }

    /// True once the set has loaded the table at least once and is listening.
    public var isSynced: Bool { synced.withLock { $0 } }

    /// Records ids locally (the revoking process does so at once, before the broadcast returns).
    public func insert(_ ids: [UUID]) {
        let until = Date().addingTimeInterval(retention.timeInterval)
        revoked.withLock { set in for id in ids { set[id] = until } }
    }

    public func run() async throws {
        let subscription = listener.subscribe(to: [RevocationBroadcaster.channel], bufferSize: 4096)
        defer { subscription.cancel() }
        try? await cancelWhenGracefulShutdown {
            for await event in subscription {
                switch event {
                case .notification(_, let payload, _):
                    self.insert(payload.split(separator: ",").compactMap { UUID(uuidString: String($0)) })
                case .resync:
                    do {
                        try await self.reload()
                    } catch {
                        self.logger.warning("could not reload revocations", metadata: ["error": "\(error)"])
                    }
                }
                self.expire()
            }
        }
    }

    /// Loads every revocation still within its tokens' lifetime.
    public func reload() async throws {
        let rows = try await pool.query("SELECT session_id, expires_at FROM auth.revocations WHERE expires_at > now()")
        var loaded: [UUID: Date] = [:]
        for row in rows { loaded[try row.decode("session_id")] = try row.decode("expires_at") }
        revoked.withLock { $0.merge(loaded) { max($0, $1) } }
        synced.withLock { $0 = true }
    }

    private func expire() {
        let now = Date()
        revoked.withLock { set in
            if set.count > 1024 { set = set.filter { $0.value > now } }
        }
    }
}
