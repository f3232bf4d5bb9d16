import ArgumentParser
import AuthCore

/// `authd tenant create|list|delete|grant|set`.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (one PostgreSQL schema each).",
        subcommands: [Create.self, List.self, Delete.self, Grant.self, Set.self])

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

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a tenant's user one of the tenant's roles (e.g. tenant_admin), effective at their next login or refresh.")

        @Argument(help: "Slug of the tenant.")
        var slug: String

        @Argument(help: "E-mail of the user.")
        var email: String

        @Argument(help: "Role: its name, or guard:name outside the web guard.")
        var role: String

        func run() async throws {
            try await Runtime.run { runtime in
                guard let tenant = try await runtime.registry.find(slug) else { throw AuthError.tenantNotFound }
                guard let address = Identifier.email(email) else { throw AuthError(.invalidEmailFormat) }
                try await runtime.db.inTenant(tenant) { tx in
                    guard let user = try await UserStore().find(email: address, phone: nil, on: tx) else { throw AuthError.userNotFound }
                    guard try await RoleRegistryStore().role(reference: role, on: tx) != nil else {
                        throw AuthError(.roleNotFound, message: "Role not found: \(role)")
                    }
                    try await RoleStore().assign([role], to: user.id, on: tx)
                    // Audited like an admin's change (the outbox trigger writes the row).
                    try await EventOutbox().append(
                        AuthEvent(
                            .userRolesChanged, tenantID: tenant.id, actor: ["type": .string("operator")], subject: AuthEvent.user(user.id),
                            data: ["granted": .string(role)]), in: tx)
                }
                Console.out("granted \(role) to \(address) in \(tenant.slug)")
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a tenant's settings: key=value … (true/false, a number, or null for the deployment's value).",
            discussion: "Keys: registrationEnabled, autoLoginAfterSignup, passwordMinLength, sessionIdleTimeout, sessionLifetime (seconds), lockoutThreshold.")

        @Argument(help: "Slug of the tenant.")
        var slug: String

        @Argument(help: "Settings as key=value.")
        var settings: [String]

        func run() async throws {
            var changes: JSONObject = [:]
            for pair in settings {
                guard let eq = pair.firstIndex(of: "=") else { throw ValidationError("\(pair): expected key=value") }
                let (key, text) = (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
                switch text {
                case "true": changes[key] = .bool(true)
                case "false": changes[key] = .bool(false)
                case "null": changes[key] = .null
                default:
                    guard let n = Int(text) else { throw ValidationError("\(key): expected true, false, a number or null") }
                    changes[key] = .int(n)
                }
            }
            try await Runtime.run { runtime in
                guard let tenant = try await runtime.registry.find(slug) else { throw AuthError.tenantNotFound }
                let updated = try await runtime.registry.updateSettings(id: tenant.id, changes) {
                    AuthEvent(.tenantSettingsChanged, tenantID: $0.id, actor: ["type": .string("operator")], data: ["settings": .object($0.overrides.json)])
                }
                Console.out("settings of \(updated.slug): \(JSONValue.object(updated.overrides.json).jsonText)")
            }
        }
    }
}
