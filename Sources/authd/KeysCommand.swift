import ArgumentParser
import AuthCore
import AuthCrypto

/// `authd keys rotate|list`: access-token signing keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage access-token signing keys.", subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote the next signing key (already published in JWKS) and publish a new next key; old keys verify for --overlap more.")

        @Option(help: "Seconds a key is published before it signs (at least 330: the JWKS max-age plus the key reload interval; counted from its creation).")
        var publishAhead = Int(SigningKeys.minimumPublishAhead.wholeSeconds)

        @Option(help: "Seconds the replaced keys keep verifying after the new key starts signing (≥ the access-token TTL).")
        var overlap = 900

        func validate() throws {
            let minimum = SigningKeys.minimumPublishAhead.wholeSeconds
            guard publishAhead >= minimum else {
                throw ValidationError("--publish-ahead must be at least \(minimum) s: verifiers cache JWKS for 300 s, and processes re-read keys every 30 s")
            }
            guard overlap >= 0 else { throw ValidationError("--overlap must not be negative") }
        }

        func run() async throws {
            try await Runtime.run(needsKeyring: true) { runtime in
                guard let keyring = runtime.configuration.keyring else { return }
                let keys = SigningKeys(db: runtime.db, sealer: SecretSealer(keyring: keyring))
                _ = try await keys.loadOrCreate()
                let kid = try await keys.rotate(publishAhead: .seconds(publishAhead), overlap: .seconds(overlap))
                let active = try await keys.load().first { $0.kid == kid }?.activatesAt
                Console.out(
                    "signing key \(kid) signs from \(active.map(ISO8601.format) ?? "-"); a new next key is published; "
                        + "previous keys verify for \(overlap)s after that")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys that still verify.")

        func run() async throws {
            try await Runtime.run(needsKeyring: true) { runtime in
                guard let keyring = runtime.configuration.keyring else { return }
                let keys = try await SigningKeys(db: runtime.db, sealer: SecretSealer(keyring: keyring)).load()
                Console.out("kid\tactivates_at\tretires_at")
                for key in keys {
                    Console.out("\(key.kid)\t\(key.activatesAt.map(ISO8601.format) ?? "next")\t\(key.retiresAt.map(ISO8601.format) ?? "-")")
                }
            }
        }
    }
}
