import ArgumentParser
import AuthCore
import AuthCrypto
import PGKit

/// `authd admin create|list`: platform admins from the command line (the operator's way in
/// before any admin exists, with no bootstrap secret configured).
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage platform admins (the admin console's operators).", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a platform admin; the password is read from standard input.")

        @Option(help: "The admin's e-mail address.")
        var email: String

        @Option(help: "Display name.")
        var name: String?

        func run() async throws {
            try await Runtime.run { runtime in
                // One line of stdin (never an argument: arguments show in `ps` and shell history).
                let password = readLine(strippingNewline: true) ?? ""
                let email = try PlatformAdminFlow.checkCredentials(email: email, password: password, policy: runtime.configuration.settings.passwordPolicy)
                let hasher = PasswordHasher(parameters: runtime.configuration.argon2, threads: 1)
                let hash = try await hasher.hash(password)
                await hasher.shutdown()
                let admin = try await runtime.db.transaction(PGTransactionOptions()) { tx in
                    let admin = try await PlatformAdminStore().insert(email: email, name: name, passwordHash: hash, on: tx)
                    // Audited like one made in the console (the outbox trigger writes the row).
                    try await EventOutbox().append(
                        AuthEvent(.platformAdminCreated, tenantID: nil, actor: ["type": .string("operator")], data: ["admin": .object(admin.json)]),
                        in: tx)
                    return admin
                }
                Console.out("created platform admin \(admin.email) id=\(admin.id.uuidString.lowercased())")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List platform admins.")

        func run() async throws {
            try await Runtime.run { runtime in
                for admin in try await runtime.db.statements({ try await PlatformAdminStore().list(on: $0) }) {
                    Console.out("\(admin.email)\t\(admin.id.uuidString.lowercased())\t\(admin.name ?? "")")
                }
            }
        }
    }
}
