#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit
import ServiceLifecycle
import Synchronization

/// Broadcasts revoked session ids on `NOTIFY auth_revocations` after the revoking transaction
/// committed (DESIGN.md §5), batched and chunked under NOTIFY's 8000-byte payload limit. Every
/// process that verifies access tokens keeps them in a `RevocationSet`.
public final class RevocationBroadcaster: Service, Sendable {
    public static let channel = "auth_revocations"
    /// 36-byte ids plus commas: 190 per NOTIFY stays well under 8000 bytes.
    static let idsPerNotify = 190

    let db: AuthDatabase
    private let pending = Mutex<[UUID]>([])
    private let doorbell = Doorbell()

    public init(db: AuthDatabase) {
        self.db = db
    }

    /// Queues ids for the next NOTIFY; call after COMMIT. Never blocks.
    public func broadcast(_ sessionIDs: [UUID]) {
        guard !sessionIDs.isEmpty else { return }
        pending.withLock { $0 += sessionIDs }
        doorbell.ring()
    }

    public func run() async throws {
        let store = NotificationStore()
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.doorbell.wait()
                let batch = self.pending.withLock { p -> [UUID] in
                    defer { p = [] }
                    return p
                }
                for start in stride(from: 0, to: batch.count, by: Self.idsPerNotify) {
                    let chunk = batch[start..<min(batch.count, start + Self.idsPerNotify)]
                    let payload = chunk.map { $0.uuidString.lowercased() }.joined(separator: ",")
                    do {
                        try await self.db.statements { try await store.notify(Self.channel, payload: payload, on: $0) }
                    } catch {
                        // Try again shortly; the periodic re-read elsewhere covers a longer outage.
                        self.pending.withLock { $0 += chunk }
                        try? await Task.sleep(for: .milliseconds(200))
                        self.doorbell.ring()
                    }
                }
            }
        }
    }
}
