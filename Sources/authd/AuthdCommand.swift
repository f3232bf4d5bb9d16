import ArgumentParser

/// `authd`: the service and its operator commands.
@main
struct AuthdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authd",
        abstract: "Multi-tenant authentication service on PostgreSQL.",
        discussion: "Configuration comes from AUTH_* environment variables (see README).",
        subcommands: [
            ServeCommand.self, ListenCommand.self, MigrateCommand.self, TenantCommand.self, AdminCommand.self, KeysCommand.self, EventsCommand.self,
            OpenAPICommand.self,
        ])
}
