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
/// it have expired. Fed by `NOTIFY auth_revocations`, and by reads of `auth.revocations`:
/// - a resync (first subscription, reconnect, overflow — broadcasts may have been missed) needs
///   a full read of the table; until one has succeeded *after* that resync, the set is not in
///   sync, whatever else succeeds meanwhile;
/// - every few seconds, a read of what was recorded since the previous read (a database-side
///   watermark, so a read after a long outage still covers the whole gap), which catches a
///   broadcast lost to a crash between COMMIT and NOTIFY.
/// Only while in sync may the guard answer from memory (`isSynced`).
public final class RevocationSet: Service, Sendable {
    /// How the set stands with the table.
    struct Sync {
        /// A resync happened and no full read has succeeded since.
        var needsFullReload = true
        /// Bumped by every resync: a full read that started before the latest resync does not count.
        var epoch = 0
        /// The database's clock at the last successful read.
        var watermark: Date?
        /// When the last read succeeded (by this process's monotonic clock).
        var lastRead: ContinuousClock.Instant?

        func isSynced(now: ContinuousClock.Instant, freshness: Duration) -> Bool {
            !needsFullReload && lastRead.map { now - $0 < freshness } == true
        }
    }

    private let revoked = Mutex<[UUID: Date]>([:])
    /// Tenants deleted while tokens naming them may still be presented (`tenant:<id>` broadcasts).
    private let deletedTenants = Mutex<[UUID: Date]>([:])
    private let tenantObservers = Mutex<[@Sendable (UUID?) -> Void]>([])
    /// The change times the last catch-up read found (tenants changed within its margin).
    private let tenantChanges = Mutex<[UUID: Date]>([:])
    /// Catch-up reads of the tenants done so far (tests wait on it).
    let tenantCatchUps = Mutex(0)
    private let sync = Mutex(Sync())
    /// How often the table is re-read besides the broadcasts (a lost NOTIFY costs at most this).
    static let rereadInterval: Duration = .seconds(2)
    /// How long after its last successful read the set still counts as in sync.
    static let freshness: Duration = .seconds(10)
    /// Reads since a watermark reach this far before it: a revocation is stamped when its
    /// transaction starts and seen when it commits.
    static let watermarkMargin: TimeInterval = 60
    let db: AuthDatabase
    let listener: PGListener
    let retention: Duration
    let logger: Logger
    let store = RevocationStore()

    /// - Parameter retention: how long an id is kept (the access-token lifetime).
    public init(db: AuthDatabase, listener: PGListener, retention: Duration, logger: Logger = Logger(label: "authd.revocations")) {
        self.db = db
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

    /// Calls `observer` to drop caches: with the id of each tenant deleted or changed (disabled,
    /// renamed, settings) as its broadcast arrives, or as the regular read finds its change time
    /// moved (creations included); with nil when any tenant may have changed unheard (a resync:
    /// broadcasts may have been missed).
    public func onTenantChange(_ observer: @escaping @Sendable (UUID?) -> Void) {
        tenantObservers.withLock { $0.append(observer) }
    }

    /// True while nothing can have been missed: a full read succeeded after the last resync and
    /// the table was read recently. Only then may the guard skip the database.
    public var isSynced: Bool {
        sync.withLock { $0.isSynced(now: .now, freshness: Self.freshness) }
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
                // Broadcasts: applied at once; a resync calls for a full read of the table.
                group.addTask {
                    for await event in subscription {
                        switch event {
                        case .notification(_, let payload, _):
                            self.apply(payload)
                        case .resync:
                            self.resync()
                            await self.refreshLogging()
                        }
                        self.expire()
                    }
                }
                // And a read every few seconds: the full read a resync needs, retried until it
                // succeeds, or what was recorded since the last read.
                group.addTask {
                    var passes = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.rereadInterval)
                        if Task.isCancelled { break }
                        await self.refreshLogging()
                        AuthMetrics.revocationSetInSync.record(self.isSynced ? 1 : 0)
                        passes += 1
                        // Every ~10 minutes: rows whose tokens have all expired are of no use.
                        if passes % 300 == 0 { _ = try? await self.db.statements { try await self.store.prune(on: $0) } }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Broadcasts may have been missed: nothing is trusted until a full read succeeds, and the
    /// tenant caches start afresh.
    func resync() {
        sync.withLock { s in
            s.needsFullReload = true
            s.epoch += 1
        }
        for observer in tenantObservers.withLock({ $0 }) { observer(nil) }
    }

    /// A broadcast payload: comma-separated session ids, `tenant:<id>` for a deleted tenant, or
    /// `tenant-changed:<id>` for one changed.
    func apply(_ payload: String) {
        if payload.hasPrefix(Self.tenantChangedPrefix) {
            guard let id = UUID(uuidString: String(payload.dropFirst(Self.tenantChangedPrefix.count))) else { return }
            for observer in tenantObservers.withLock({ $0 }) { observer(id) }
            return
        }
        if payload.hasPrefix(Self.tenantPrefix) {
            guard let id = UUID(uuidString: String(payload.dropFirst(Self.tenantPrefix.count))) else { return }
            // Caches first: once `tenantDeleted` says so, no cache serves the tenant any more.
            for observer in tenantObservers.withLock({ $0 }) { observer(id) }
            let until = Date().addingTimeInterval(retention.timeInterval)
            deletedTenants.withLock { $0[id] = until }
            return
        }
        let ids = payload.split(separator: ",").compactMap { UUID(uuidString: String($0)) }
        AuthMetrics.revocationsReceived.increment(by: ids.count)
        insert(ids)
    }

    /// The payload prefix of a tenant deletion (sent by `TenantRegistry.delete` inside its transaction).
    public static let tenantPrefix = "tenant:"
    /// The payload prefix of a tenant changed (sent by `TenantRegistry.update` and
    /// `updateSettings` inside their transactions). Older readers take it for a list of session
    /// ids, none of which parses, and ignore it.
    public static let tenantChangedPrefix = "tenant-changed:"

    private func refreshLogging() async {
        do { try await refresh() } catch {
            logger.warning("could not read revocations", metadata: ["error": "\(error)"])
        }
    }

    /// Reads the table: in full when a resync asked for it (or nothing was read yet), else what
    /// was recorded since the last read's watermark.
    func refresh() async throws {
        let (full, epoch, watermark) = sync.withLock { s in (s.needsFullReload || s.watermark == nil, s.epoch, s.watermark) }
        let since = full ? nil : watermark.map { $0.addingTimeInterval(-Self.watermarkMargin) }
        // Tenants changed since the last read too (a resync drops every cached tenant instead):
        // the broadcast of a change can go astray as a revocation's can while this set still
        // counts as in sync, and caches trust a tenant that long. (Not deletions: their rows are
        // gone; a cached tenant deleted unheard fails its next statement as not found.)
        let watching = !tenantObservers.withLock { $0.isEmpty }
        let (read, changed) = try await db.statements { pool in
            let read = try await store.load(since: since, on: pool)
            guard let since, watching else { return (read, nil as [UUID: Date]?) }
            return (read, try await TenantStore().changes(since: since, on: pool))
        }
        if let changed { catchUp(changed) }
        // Expiry times move onto this process's clock (by the database's at the read): entries
        // are dropped when the database says, whatever this clock says.
        let offset = read.readAt.timeIntervalSinceNow
        let expiries = read.revoked.mapValues { $0.addingTimeInterval(-offset) }
        revoked.withLock { $0.merge(expiries) { max($0, $1) } }
        sync.withLock { s in
            // A full read counts only if no resync came while it ran.
            if full, s.epoch == epoch { s.needsFullReload = false }
            s.watermark = read.readAt
            s.lastRead = .now
        }
    }

    /// Tells the observers of each tenant whose change time is new since the last read.
    private func catchUp(_ changed: [UUID: Date]) {
        let previous = tenantChanges.withLock { seen in
            defer { seen = changed }
            return seen
        }
        let news = changed.filter { previous[$0.key] != $0.value }.keys
        let observers = tenantObservers.withLock { $0 }
        for id in news { for observer in observers { observer(id) } }
        tenantCatchUps.withLock { $0 += 1 }
    }

    private func expire() {
        let now = Date()
        revoked.withLock { set in
            if set.count > 1024 { set = set.filter { $0.value > now } }
        }
        deletedTenants.withLock { set in set = set.filter { $0.value > now } }
    }
}
