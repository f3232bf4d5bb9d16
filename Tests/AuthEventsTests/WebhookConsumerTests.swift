import AsyncHTTPClient
import AuthCore
import AuthCrypto
import AuthEvents
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import PGKit
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// Webhook delivery against a real HTTP endpoint on loopback: Standard Webhooks signature, and a
/// failing answer retried.
@Suite struct WebhookConsumerTests {
    final class Received: Sendable {
        let items = Mutex<[(id: String, timestamp: String, signature: String, body: String)]>([])
    }

    @Test func signedDeliveryAndRetryAfterA500() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let received = Received()
            let calls = Mutex(0)
            let router = Router()
            router.post("/hook") { request, context -> HTTPResponse.Status in
                let body = try await request.body.collect(upTo: 1 << 20)
                let first = calls.withLock { c -> Bool in
                    c += 1
                    return c == 1
                }
                if first { return .internalServerError }  // the first attempt fails
                received.items.withLock {
                    $0.append((
                        request.headers[HTTPField.Name("webhook-id")!] ?? "", request.headers[HTTPField.Name("webhook-timestamp")!] ?? "",
                        request.headers[HTTPField.Name("webhook-signature")!] ?? "", String(buffer: body)))
                }
                return .ok
            }
            let port = TestPorts.free()
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
            let secretBytes = try SecureRandom.bytes(32)
            let secret = try WebhookConsumer.Secret("whsec_" + Base64.encode(secretBytes))
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let sealer = SecretSealer(keyring: try Keyring.ephemeral())
            let listener = try PGListener(conninfo: db.conninfo)
            let t = "test.webhook.\(UUID().uuidString.prefix(8).lowercased())"
            let consumer = EventConsumer(
                group: "wh-\(UUID().uuidString.prefix(8).lowercased())", pool: pool, listener: listener,
                options: .init(subscriptions: [t], start: .oldest, baseBackoff: .zero),
                handler: WebhookConsumer(url: "http://127.0.0.1:\(port)/hook", secret: secret, client: http, sealer: sealer).handler())
            var event = AuthEvent(AuthEvent.Name(rawValue: t), tenantID: nil, data: ["k": .string("v")])
            event.secret = .init("493817", expiresAt: Date().addingTimeInterval(600))
            try await pool.withTransaction { tx in try await EventOutbox(sealer: sealer).append(event, in: tx) }

            let group = ServiceGroup(configuration: .init(services: [app], logger: .init(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await Task.sleep(for: .milliseconds(300))
                try await consumer.runOnce()  // registers the group, gets the 500
                let delivered = try await eventually(timeout: .seconds(10)) {
                    try await consumer.runOnce()
                    return !received.items.withLock { $0 }.isEmpty
                }
                #expect(delivered)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            try await http.shutdown()
            let item = try #require(received.items.withLock { $0 }.first)
            #expect(item.id == event.id.uuidString.lowercased())
            // Verify the signature the way a receiver would, independently.
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array("\(item.id).\(item.timestamp).\(item.body)".utf8), using: SymmetricKey(data: secretBytes))
            #expect(item.signature == "v1," + Base64.encode(Array(mac)))
            #expect(item.body.contains(#""type":"\#(t)""#))
            #expect(item.body.contains(#""oneTimeSecret":"493817""#), "the code reaches the endpoint inside the signed body")
            #expect(calls.withLock { $0 } == 2)
        }
    }

    @Test func weakSecretsAreRefused() {
        #expect(throws: (any Error).self) { try WebhookConsumer.Secret("whsec_c2hvcnQ=") }
        #expect(throws: (any Error).self) { try WebhookConsumer.Secret("not base64 !!") }
    }
}
