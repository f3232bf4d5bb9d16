import ArgumentParser
import AuthCore
import AuthCrypto

/// `authd keys rotate|list`: access-token signing keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage access-token signing keys.", subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key: published in JWKS now, signing after --publish-ahead; old keys verify for --overlap more.")

        @Option(help: "Seconds between publishing the new key and signing with it.")
        var publishAhead = 60

        @Option(help: "Seconds the replaced keys keep verifying after the new key starts signing (≥ the access-token TTL).")
        var overlap = 900

        func run() async throws {
            try await Runtime.run(needsKeyring: true) { runtime in
                guard let keyring = runtime.configuration.keyring else { return }
                let store = SigningKeyStore(pool: runtime.pool, sealer: SecretSealer(keyring: keyring))
                _ = try await store.loadOrCreate()
                let kid = try await store.rotate(publishAhead: .seconds(publishAhead), overlap: .seconds(overlap))
                Console.out("new signing key \(kid): signs in \(publishAhead)s; previous keys verify for \(overlap)s after that")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys that still verify.")

        func run() async throws {
            try await Runtime.run(needsKeyring: true) { runtime in
                guard let keyring = runtime.configuration.keyring else { return }
                let keys = try await SigningKeyStore(pool: runtime.pool, sealer: SecretSealer(keyring: keyring)).load()
                Console.out("kid\tactivates_at\tretires_at")
                for key in keys {
                    Console.out("\(key.kid)\t\(ISO8601.format(key.activatesAt))\t\(key.retiresAt.map(ISO8601.format) ?? "-")")
                }
            }
        }
    }
}
