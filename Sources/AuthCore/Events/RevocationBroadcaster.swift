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

    struct State {
        var pending: [UUID] = []
        var waiter: CheckedContinuation<Void, Never>?
    }

    let pool: PGPool
    private let state = Mutex(State())

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Queues ids for the next NOTIFY; call after COMMIT. Never blocks.
    public func broadcast(_ sessionIDs: [UUID]) {
        guard !sessionIDs.isEmpty else { return }
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.pending += sessionIDs
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let batch = await self.nextBatch()
                for start in stride(from: 0, to: batch.count, by: Self.idsPerNotify) {
                    let chunk = batch[start..<min(batch.count, start + Self.idsPerNotify)]
                    let payload = chunk.map { $0.uuidString.lowercased() }.joined(separator: ",")
                    _ = try? await self.pool.query("SELECT pg_notify($1, $2)", Self.channel, payload)
                }
            }
        }
    }

    private func nextBatch() async -> [UUID] {
        while true {
            let batch = state.withLock { s -> [UUID] in
                defer { s.pending = [] }
                return s.pending
            }
            if !batch.isEmpty || Task.isCancelled { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        if !s.pending.isEmpty || Task.isCancelled { return true }
                        s.waiter = c
                        return false
                    }
                    if ready { c.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    defer { s.waiter = nil }
                    return s.waiter
                }
                waiter?.resume()
            }
        }
    }
}
