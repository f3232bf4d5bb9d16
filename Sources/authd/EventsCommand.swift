import ArgumentParser
import AuthCore
import AuthEvents
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `authd events status|retry`: consumer groups, lag and dead letters.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Inspect event delivery.", subcommands: [Status.self, Retry.self, DropGroup.self, ResetSnapshots.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Groups with lag and dead letters.")

        func run() async throws {
            try await Runtime.run { runtime in
                let groups = try await ConsumerGroupStore(pool: runtime.pool).status()
                Console.out(["group", "status", "subscriptions", "unadvanced", "pending", "dead", "oldest_pending", "last_seen"].joined(separator: "\t"))
                for g in groups {
                    Console.out([
                        g.name, g.needsReset ? "needs-reset" : g.status, g.subscriptions.joined(separator: ","), String(g.unadvanced), String(g.pending), String(g.dead),
                        g.oldestPendingAt.map(ISO8601.format) ?? "-", ISO8601.format(g.lastSeenAt),
                    ].joined(separator: "\t"))
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Requeue a dead-lettered delivery.")

        @Argument(help: "Consumer group.")
        var group: String

        @Argument(help: "Event id.")
        var event: String

        func run() async throws {
            guard let id = UUID(uuidString: event) else { throw ValidationError("event must be a uuid") }
            try await Runtime.run { runtime in
                guard try await ConsumerGroupStore(pool: runtime.pool).retry(group: group, event: id) else {
                    throw AuthError(.deliveryNotFound, message: "no dead-lettered delivery \(event) in group \(group)")
                }
                Console.out("requeued \(event) for \(group)")
            }
        }
    }

    struct DropGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drop-group", abstract: "Delete a consumer group and its deliveries (it stops holding events back).")

        @Argument(help: "Consumer group.")
        var group: String

        @Flag(help: "Confirm.")
        var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("dropping a group forgets what it has not processed; pass --yes") }
        }

        func run() async throws {
            try await Runtime.run { runtime in
                guard try await ConsumerGroupStore(pool: runtime.pool).drop(group: group) else {
                    throw AuthError(.groupNotFound, message: "no consumer group \(group)")
                }
                Console.out("dropped group \(group)")
            }
        }
    }

    struct ResetSnapshots: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-snapshots",
            abstract: "Re-base consumer groups after a restore into a new cluster (transaction ids went backwards).",
            discussion: """
                Every subscribed event a group had not taken — not yet advanced before the dump, or written since \
                the restore — becomes a delivery, and the group continues from the new cluster's snapshot. \
                Safe to run when not needed. Run it when authd listen logs "run `authd events reset-snapshots`".
                """)

        @Option(help: "Only this group (default: every group).")
        var group: String?

        func run() async throws {
            try await Runtime.run { runtime in
                for (name, requeued) in try await ConsumerGroupStore(pool: runtime.pool).resetSnapshots(group: group) {
                    Console.out("\(name): snapshot reset, \(requeued) event(s) queued")
                }
            }
        }
    }
}
