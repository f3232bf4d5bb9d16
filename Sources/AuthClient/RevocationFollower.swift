#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PGKit
import ServiceLifecycle
import Synchronization

/// Follows authd's revocation broadcast (`NOTIFY auth_revocations`) on a LISTEN connection of
/// its own, so a backend refuses a logged-out session within milliseconds without asking authd.
///
/// The rules are authd's own (its `RevocationSet`): after a resync (first subscription,
/// reconnect, overflow — broadcasts may have been missed) nothing is trusted until a full read
/// of `auth.revocations` has succeeded; besides, the table is re-read every `rereadInterval`
/// from a database-side watermark (a NOTIFY lost between COMMIT and send costs seconds), and
/// the tenant list every `tenantInterval` and at once on a `tenant-changed` broadcast (a deleted
/// or disabled tenant's tokens stop).
/// While not in sync the verifier refuses with 503 (or accepts, if so configured).
public final class RevocationFollower: Service, Sendable {
    /// What the follower says about one token.
    enum Verdict: Equatable {
        case allowed
        case revoked
        case outOfSync
    }

    struct Sync {
        var needsFullReload = true
        var epoch = 0
        /// The database's clock at the last successful read.
        var watermark: Date?
        var lastRead: ContinuousClock.Instant?
        /// Tenant id → active, as of `tenantsReadAt` (the database's clock).
        var tenants: [UUID: Bool] = [:]
        var tenantsReadAt: Date?
        /// `tenant-changed` broadcasts heard, and how many of them the last tenant read began
        /// after: while they differ the next read includes the tenant list.
        var tenantChanges = 0
        var tenantChangesRead = 0
        /// The LISTEN has been established at least once (its first `.resync`): before that a
        /// successful read proves nothing about broadcasts to come.
        var listening = false

        func isSynced(freshness: Duration) -> Bool {
            listening && !needsFullReload && lastRead.map { ContinuousClock.now - $0 < freshness } == true
        }
    }

    /// The channel and payloads authd sends (comma-separated session ids, `tenant:<id>` for a
    /// tenant deleted, `tenant-changed:<id>` for one changed).
    static let channel = "auth_revocations"
    static let tenantPrefix = "tenant:"
    static let tenantChangedPrefix = "tenant-changed:"
    /// A token naming a tenant missing from a read is refused only when issued this long before
    /// the read (its clock is authd's, the read's the database's).
    static let tenantMargin: TimeInterval = 30
    /// How often the tenant list is read besides a `tenant-changed` broadcast, which has it read
    /// at once (a change made in SQL behind authd's back is broadcast by nobody).
    static let defaultTenantInterval: TimeInterval = 5
    let tenantInterval: TimeInterval
    /// Revoked ids are kept this long past their expiry (by this process's clock), so a clock
    /// behind the database's does not drop one while its last token is still accepted here.
    static let expiryGrace: TimeInterval = 300
    static let watermarkMargin: TimeInterval = 60

    let listener: PGListener
    let reader: RevocationReader
    let rereadInterval: Duration
    let freshness: Duration
    let logger: Logger
    private let revoked = Mutex<[UUID: Date]>([:])
    private let deletedTenants = Mutex<Set<UUID>>([])
    private let sync = Mutex(Sync())
    private let broadcasts = Mutex(0)

    init(conninfo: String, rereadInterval: Duration, freshness: Duration, tenantInterval: TimeInterval = RevocationFollower.defaultTenantInterval, logger: Logger) throws {
        let bounded = ConnInfo.withDefaults(conninfo)
        listener = try PGListener(conninfo: bounded, logger: logger)
        reader = RevocationReader(conninfo: bounded)
        self.rereadInterval = rereadInterval
        self.freshness = freshness
        self.tenantInterval = tenantInterval
        self.logger = logger
    }

    /// True while nothing can have been missed: LISTEN is established, a full read succeeded
    /// after the last resync, and the table was read within `freshness`. (While the LISTEN
    /// connection is down but not yet noticed, a lost broadcast costs at most one re-read
    /// interval, as in authd itself.)
    public var isSynced: Bool {
        sync.withLock { $0.isSynced(freshness: freshness) }
    }

    /// Session ids received by broadcast so far (each id counts once per NOTIFY).
    public var broadcastsReceived: Int { broadcasts.withLock { $0 } }

    func verdict(sessionID: UUID, tenantID: UUID, issuedAt: Date?) -> Verdict {
        if revoked.withLock({ $0[sessionID] != nil }) || deletedTenants.withLock({ $0.contains(tenantID) }) { return .revoked }
        let (synced, active, readAt) = sync.withLock { s in (s.isSynced(freshness: freshness), s.tenants[tenantID], s.tenantsReadAt) }
        if active == false { return .revoked }
        if active == nil, let readAt, let issuedAt, issuedAt < readAt.addingTimeInterval(-Self.tenantMargin) { return .revoked }
        return synced ? .allowed : .outOfSync
    }

    public func run() async throws {
        let subscription = listener.subscribe(to: [Self.channel], bufferSize: 4096)
        defer { subscription.cancel() }
        // One task reads the tables, woken by a ticker or by a resync: reads never overlap
        // (an older read cannot land after a newer one), and broadcasts keep being applied
        // while a slow read runs.
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        listener.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in subscription {
                    switch event {
                    case .notification(_, let payload, _):
                        if self.apply(payload) { wake.yield() }
                    case .resync:
                        self.sync.withLock { s in
                            s.listening = true
                            s.needsFullReload = true
                            s.epoch += 1
                        }
                        wake.yield()
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.rereadInterval)
                    wake.yield()
                }
            }
            group.addTask {
                for await _ in wakes {
                    await self.refreshLogging()
                    self.expire()
                }
            }
            // Until graceful shutdown (or cancellation): stopping the listener ends the
            // subscription's loop; cancelling ends the ticker, and finishing the stream the reader.
            try? await gracefulShutdown()
            await self.listener.shutdown()
            group.cancelAll()
            wake.finish()
        }
    }

    /// Applies a broadcast; true when it calls for reading the tenant list at once (a tenant
    /// changed: disabled, perhaps).
    @discardableResult
    func apply(_ payload: String) -> Bool {
        if payload.hasPrefix(Self.tenantChangedPrefix) {
            sync.withLock { $0.tenantChanges += 1 }
            return true
        }
        if payload.hasPrefix(Self.tenantPrefix) {
            guard let id = UUID(uuidString: String(payload.dropFirst(Self.tenantPrefix.count))) else { return false }
            deletedTenants.withLock { _ = $0.insert(id) }
            return false
        }
        let ids = payload.split(separator: ",").compactMap { UUID(uuidString: String($0)) }
        // Kept until the next full read says when it may go (a token lives minutes at most).
        let until = Date().addingTimeInterval(24 * 3600)
        revoked.withLock { set in for id in ids { set[id] = set[id] ?? until } }
        broadcasts.withLock { $0 += ids.count }
        return false
    }

    private func refreshLogging() async {
        do { try await refresh() } catch {
            logger.warning("could not read revocations", metadata: ["error": "\(error)"])
        }
    }

    /// A full read after a resync (or the first), else what was recorded since the watermark;
    /// the tenant list on a full read, every `tenantInterval`, and after a `tenant-changed`
    /// broadcast.
    func refresh() async throws {
        let (full, epoch, watermark, tenantsReadAt, changes, changesRead) = sync.withLock { s in
            (s.needsFullReload || s.watermark == nil, s.epoch, s.watermark, s.tenantsReadAt, s.tenantChanges, s.tenantChangesRead)
        }
        let readTenants = full || tenantsReadAt == nil || changes != changesRead || watermark.map { w in
            tenantsReadAt.map { w.timeIntervalSince($0) >= tenantInterval } ?? true
        } ?? true
        let since = full ? nil : watermark.map { $0.addingTimeInterval(-Self.watermarkMargin) }
        let read = try await reader.read(since: since, tenants: readTenants)
        // Expiry times onto this process's clock (by the database's at the read).
        let offset = read.readAt.timeIntervalSinceNow
        let expiries = read.revoked.mapValues { $0.addingTimeInterval(-offset) }
        revoked.withLock { set in
            if full {
                // A full read knows every expiry: broadcast entries it lists get the real one.
                for (id, until) in expiries { set[id] = until }
            } else {
                set.merge(expiries) { max($0, $1) }
            }
        }
        sync.withLock { s in
            if full, s.epoch == epoch { s.needsFullReload = false }
            s.watermark = read.readAt
            s.lastRead = .now
            if let tenants = read.tenants {
                // A tenant that was there and is gone was deleted (its broadcast may have been missed).
                let gone = s.tenants.keys.filter { tenants[$0] == nil }
                if !gone.isEmpty { deletedTenants.withLock { $0.formUnion(gone) } }
                s.tenants = tenants
                s.tenantsReadAt = read.readAt
                s.tenantChangesRead = max(s.tenantChangesRead, changes)
            }
        }
    }

    private func expire() {
        let horizon = Date().addingTimeInterval(-Self.expiryGrace)
        revoked.withLock { set in
            if set.count > 1024 { set = set.filter { $0.value > horizon } }
        }
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
