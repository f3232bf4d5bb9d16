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
    /// Tenants deleted while tokens naming them may still be presented (`tenant:<id>` broadcasts).
    private let deletedTenants = Mutex<[UUID: Date]>([:])
    private let tenantObservers = Mutex<[@Sendable (UUID) -> Void]>([])
    /// When the table was last read successfully; the set counts as in sync only shortly after.
    private let lastReload = Mutex<ContinuousClock.Instant?>(nil)
    /// How often the table is re-read besides the broadcasts (a lost NOTIFY costs at most this).
    static let rereadInterval: Duration = .seconds(2)
    static let freshness: Duration = .seconds(10)
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

    /// True when the tenant was deleted (as far as this process has heard).
    public func tenantDeleted(_ tenantID: UUID) -> Bool {
        deletedTenants.withLock { $0[tenantID] != nil }
    }

    /// Calls `observer` with each deleted tenant's id as the broadcast arrives (to drop caches).
    public func onTenantDeleted(_ observer: @escaping @Sendable (UUID) -> Void) {
        tenantObservers.withLock { $0.append(observer) }
    }

    /// True while the table was read recently: only then may the guard skip the database.
    public var isSynced: Bool {
        lastReload.withLock { $0.map { ContinuousClock.now - $0 < Self.freshness } ?? false }
    }

    /// Records ids locally (the revoking process does so at once, before the broadcast returns).
    public func insert(_ ids: [UUID]) {
        let until = Date().addingTimeInterval(retention.timeInterval)
        revoked.withLock { set in for id in ids { set[id] = until } }
    }

    public func run() async throws {
        let subscription = listener.subscribe(to: [RevocationBroadcaster.channel], bufferSize: 4096)
        defer { subscription.cancel() }
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // Broadcasts: applied at once; a resync re-reads everything still live.
                group.addTask {
                    for await event in subscription {
                        switch event {
                        case .notification(_, let payload, _):
                            self.apply(payload)
                        case .resync:
                            await self.reloadLogging(since: nil)
                        }
                        self.expire()
                    }
                }
                // And a re-read of recent revocations every few seconds: a NOTIFY lost to a
                // crash or a broken connection delays a revocation by seconds, and a set that
                // cannot read the table stops counting as in sync (the guard then asks the database).
                group.addTask {
                    var passes = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.rereadInterval)
                        if Task.isCancelled { break }
                        await self.reloadLogging(since: .seconds(30))
                        AuthMetrics.revocationSetInSync.record(self.isSynced ? 1 : 0)
                        passes += 1
                        // Every ~10 minutes: rows whose tokens have all expired are of no use.
                        if passes % 300 == 0 {
                            _ = try? await self.pool.query("DELETE FROM auth.revocations WHERE expires_at < now() - interval '1 hour'")
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// A broadcast payload: comma-separated session ids, or `tenant:<id>` for a deleted tenant.
    func apply(_ payload: String) {
        if payload.hasPrefix(Self.tenantPrefix) {
            guard let id = UUID(uuidString: String(payload.dropFirst(Self.tenantPrefix.count))) else { return }
            let until = Date().addingTimeInterval(retention.timeInterval)
            deletedTenants.withLock { $0[id] = until }
            for observer in tenantObservers.withLock({ $0 }) { observer(id) }
            return
        }
        let ids = payload.split(separator: ",").compactMap { UUID(uuidString: String($0)) }
        AuthMetrics.revocationsReceived.increment(by: ids.count)
        insert(ids)
    }

    /// The payload prefix of a tenant deletion (sent by `TenantRegistry.delete` inside its transaction).
    public static let tenantPrefix = "tenant:"

    private func reloadLogging(since window: Duration?) async {
        do { try await reload(since: window) } catch {
            logger.warning("could not read revocations", metadata: ["error": "\(error)"])
        }
    }

    /// Loads every revocation still within its tokens' lifetime (`since`: only those revoked in
    /// that recent window).
    public func reload(since window: Duration? = nil) async throws {
        let rows: PGRows
        if let window {
            rows = try await pool.query(
                "SELECT session_id, expires_at FROM auth.revocations WHERE revoked_at > now() - make_interval(secs => $1) AND expires_at > now()",
                window.timeInterval)
        } else {
            rows = try await pool.query("SELECT session_id, expires_at FROM auth.revocations WHERE expires_at > now()")
        }
        var loaded: [UUID: Date] = [:]
        for row in rows { loaded[try row.decode("session_id")] = try row.decode("expires_at") }
        revoked.withLock { $0.merge(loaded) { max($0, $1) } }
        lastReload.withLock { $0 = .now }
    }

    private func expire() {
        let now = Date()
        revoked.withLock { set in
            if set.count > 1024 { set = set.filter { $0.value > now } }
        }
        deletedTenants.withLock { set in set = set.filter { $0.value > now } }
    }
}
