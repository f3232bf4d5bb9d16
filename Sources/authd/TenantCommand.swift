import ArgumentParser
import AuthCore

/// `authd tenant create|list|delete`.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (one PostgreSQL schema each).",
        subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and its schema.")

        @Argument(help: "Slug: lowercase letters, digits and single hyphens, e.g. acme-eu.")
        var slug: String

        @Option(help: "Display name (defaults to the slug).")
        var name: String?

        func run() async throws {
            try await Runtime.run { runtime in
                let tenant = try await runtime.registry.create(slug: slug, name: name)
                Console.out("created tenant \(tenant.slug) id=\(tenant.id.uuidString.lowercased()) schema=\(tenant.schemaName)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")

        func run() async throws {
            try await Runtime.run { runtime in
                let tenants = try await runtime.registry.list()
                Console.out(["slug", "id", "schema", "status", "name"].joined(separator: "\t"))
                for t in tenants {
                    Console.out([t.slug, t.id.uuidString.lowercased(), t.schemaName, t.status.rawValue, t.name]
                        .joined(separator: "\t"))
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant: drops its schema with all its users and sessions.")

        @Argument(help: "Slug of the tenant to delete.")
        var slug: String

        @Flag(help: "Confirm: the tenant's data cannot be recovered.")
        var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("deleting a tenant drops all its data; pass --yes to confirm") }
        }

        func run() async throws {
            try await Runtime.run { runtime in
                try await runtime.registry.delete(slug: slug)
                Console.out("deleted tenant \(slug)")
            }
        }
    }
}
