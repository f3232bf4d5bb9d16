import AuthCore
import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TestSupport
import Testing

/// Issue 20 item 4: hook points bound to HTTP endpoints (`HTTPHooks`), against a receiver on
/// loopback that verifies each call's Standard Webhooks signature.
@Suite struct HTTPHookTests {
    final class Receiver: Sendable {
        struct Call {
            var hook: String
            var body: JSONObject
            var signatureValid: Bool
        }

        let secretBytes: [UInt8]
        let calls = Mutex<[Call]>([])
        /// What the decision endpoint answers next: status and body.
        let answer = Mutex<(Int, String)>((200, #"{"allow":true}"#))
        let delay = Mutex<Duration>(.zero)

        init(secretBytes: [UInt8]? = nil) throws { self.secretBytes = try secretBytes ?? SecureRandom.bytes(32) }

        var secret: StandardWebhooks.Secret { StandardWebhooks.Secret("whsec_" + Base64.encode(secretBytes))! }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
                let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
                let ts = request.headers[HTTPField.Name("webhook-timestamp")!] ?? ""
                let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(ts).\(text)".utf8), using: SymmetricKey(data: self.secretBytes))
                let valid = request.headers[HTTPField.Name("webhook-signature")!] == "v1," + Base64.encode(Array(mac))
                let body = (try? JSONValue.parse(text).objectValue) ?? [:]
                self.calls.withLock { $0.append(Call(hook: body["hook"]?.stringValue ?? "", body: body, signatureValid: valid)) }
                let delay = self.delay.withLock { $0 }
                if delay > .zero { try await Task.sleep(for: delay) }
                let (status, answer) = body["hook"]?.stringValue?.hasPrefix("session.") == true ? (500, "{}") : self.answer.withLock { $0 }
                return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
            }
            return router
        }
    }

    static func hooks(_ receiver: Receiver, port: Int, timeout: Duration = .seconds(2)) -> AuthHooks {
        let url = "http://127.0.0.1:\(port)/hook"
        return HTTPHooks(
            endpoints: Dictionary(uniqueKeysWithValues: HTTPHooks.Point.allCases.map { ($0, HTTPHooks.Endpoint(url: url, timeout: timeout)) }),
            secret: receiver.secret
        ).installed(into: AuthHooks())
    }

    @Test func decisionsAllowDenyAndFailClosedNotificationsFailOpen() async throws {
        let receiver = try Receiver()
        try await LoopbackServer.with(receiver.router(), label: "hook-receiver") { port in
            // A generous timeout here (a loaded machine must not turn an allow into a 503); the
            // timeout itself is exercised below with a short one.
            try await TestApp.with(hooks: Self.hooks(receiver, port: port, timeout: .seconds(15))) { app, client in
                let tenant = try await app.defaultTenant()
                // Allowed: signup (beforeSignup), then the login's guard; the session hooks are
                // told after COMMIT, and their receiver's 500 changes nothing.
                let signup = try await client.signup("ann@example.com", extra: ["plan": "pro"])
                #expect(signup.status == .ok, "\(signup.raw)")
                let token = try #require(signup.accessToken)
                #expect(try await client.call(.get, "/auth/me", bearer: token).status == .ok)
                let told = try await eventually { receiver.calls.withLock { $0 }.contains { $0.hook == "session.onCreated" } }
                #expect(told)
                let calls = receiver.calls.withLock { $0 }
                #expect(calls.allSatisfy { $0.signatureValid }, "every call is signed")
                let before = try #require(calls.first { $0.hook == "beforeSignup" })
                #expect(before.body["input"]?["email"] == .string("ann@example.com") && before.body["input"]?["profile"]?["plan"] == .string("pro"))
                #expect(!calls.contains { JSONValue.object($0.body).jsonText.contains("correct horse") }, "no password reaches a hook")
                #expect(calls.contains { $0.hook == "guards.beforeAuth" && $0.body["request"]?["path"] == .string("/auth/me") })

                // Denied with the endpoint's own code and status: nothing is written.
                receiver.answer.withLock { $0 = (200, #"{"allow":false,"code":"DOMAIN_NOT_ALLOWED","message":"Use your work address","status":422}"#) }
                let denied = try await client.signup("bob@example.com")
                #expect(denied.status == .unprocessableContent && denied.code == "DOMAIN_NOT_ALLOWED" && denied.object["message"] == .string("Use your work address"))
                #expect(try await client.call(.get, "/auth/me", bearer: token).code == "DOMAIN_NOT_ALLOWED")
                // Fail closed: a 500, an unreadable answer, a timeout — 503 with Retry-After.
                for (status, body) in [(500, "{}"), (200, "[1]"), (200, "OK"), (200, "{}"), (404, "{}")] {
                    receiver.answer.withLock { $0 = (status, body) }
                    let closed = try await client.signup("cy@example.com")
                    #expect(closed.status == .serviceUnavailable && closed.code == "HOOK_UNAVAILABLE" && closed.headers[.retryAfter] != nil, "\(status) \(body)")
                }
                receiver.answer.withLock { $0 = (200, #"{"allow":true}"#) }
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 1)
                #expect(try await client.login("ann@example.com").status == .ok)
            }
            // A hook slower than its timeout refuses (a 3 s answer, a 300 ms timeout).
            receiver.delay.withLock { $0 = .seconds(3) }
            try await TestApp.with(hooks: Self.hooks(receiver, port: port, timeout: .milliseconds(300))) { _, client in
                let slow = try await client.signup("eve@example.com")
                #expect(slow.status == .serviceUnavailable && slow.code == "HOOK_UNAVAILABLE", "\(slow.raw)")
            }
        }
        // Nothing listening at all: closed as well.
        try await TestApp.with(hooks: Self.hooks(receiver, port: 9)) { _, client in
            let down = try await client.signup("dee@example.com")
            #expect(down.status == .serviceUnavailable && down.code == "HOOK_UNAVAILABLE")
        }
    }

    /// `AUTH_HTTP_HOOKS` `tenants`: a tenant's own binding replaces the deployment's for that
    /// point, `null` removes it; every call names its tenant.
    @Test func tenantsHaveBindingsOfTheirOwn() async throws {
        let global = try Receiver()
        let acme = try Receiver(secretBytes: global.secretBytes)
        acme.answer.withLock { $0 = (200, #"{"allow":false,"code":"ACME_INVITE_ONLY","message":"Acme is invite-only","status":403}"#) }
        try await LoopbackServer.with(global.router(), label: "hook-global") { globalPort in
            try await LoopbackServer.with(acme.router(), label: "hook-acme") { acmePort in
                let hooks = try HTTPHooks.parse([
                    "beforeSignup": .string("http://127.0.0.1:\(globalPort)/hook"),
                    "guards.beforeAuth": .object(["url": .string("http://127.0.0.1:\(globalPort)/hook"), "timeoutMs": 15_000]),
                    "tenants": .object([
                        "acme": .object(["beforeSignup": .string("http://127.0.0.1:\(acmePort)/hook")]),
                        "quiet": .object(["beforeSignup": .null, "guards.beforeAuth": .null]),
                    ]),
                ], secret: global.secret)
                #expect(hooks.tenants["quiet"]?[.beforeSignup] == .some(nil))
                try await TestApp.with(hooks: hooks.installed(into: AuthHooks())) { app, client in
                    _ = try await app.env.registry.create(slug: "acme")
                    _ = try await app.env.registry.create(slug: "quiet")
                    // The deployment's binding, told which tenant.
                    let plain = try await client.signup("ann@example.com")
                    #expect(plain.status == .ok, "\(plain.raw)")
                    let first = try #require(global.calls.withLock { $0.first { $0.hook == "beforeSignup" } })
                    #expect(first.body["tenant"]?["slug"] == .string("default") && first.signatureValid)
                    // Acme's own endpoint refuses; the deployment's is not asked.
                    let refused = try await client.signup("bob@example.com", tenant: "acme")
                    #expect(refused.status == .forbidden && refused.code == "ACME_INVITE_ONLY", "\(refused.raw)")
                    let asked = try #require(acme.calls.withLock { $0.first })
                    #expect(asked.body["tenant"]?["slug"] == .string("acme") && asked.signatureValid)
                    #expect(global.calls.withLock { $0 }.filter { $0.hook == "beforeSignup" }.count == 1)
                    // Acme keeps the deployment's guard hook (it bound only beforeSignup).
                    let before = global.calls.withLock { $0.count }
                    #expect(try await client.call(.get, "/auth/me", bearer: try #require(plain.accessToken)).status == .ok)
                    let guardCall = try #require(global.calls.withLock { $0.dropFirst(before).first { $0.hook == "guards.beforeAuth" } })
                    #expect(guardCall.body["tenant"]?["slug"] == .string("default"))
                    // Quiet turned both off: nobody is asked, the signup and its token go through.
                    let calls = global.calls.withLock { $0.count } + acme.calls.withLock { $0.count }
                    let quiet = try await client.signup("cy@example.com", tenant: "quiet")
                    #expect(quiet.status == .ok, "\(quiet.raw)")
                    #expect(try await client.call(.get, "/auth/me", bearer: try #require(quiet.accessToken)).status == .ok)
                    #expect(global.calls.withLock { $0.count } + acme.calls.withLock { $0.count } == calls)
                }
            }
        }
        let secret = global.secret
        #expect(throws: HTTPHookConfigurationError.self) { try HTTPHooks.parse(["tenants": .object(["Not A Slug": .object([:])])], secret: secret) }
        #expect(throws: HTTPHookConfigurationError.self) {
            try HTTPHooks.parse(["tenants": .object(["acme": .object(["onLogin": .string("https://x.example")])])], secret: secret)
        }
    }

    @Test func configurationIsCheckedAtStart() throws {
        let secret = try #require(StandardWebhooks.Secret("whsec_" + Base64.encode(try SecureRandom.bytes(32))))
        #expect(throws: HTTPHookConfigurationError.self) { try HTTPHooks.parse(["onLogin": "https://x.example"], secret: secret) }
        #expect(throws: HTTPHookConfigurationError.self) { try HTTPHooks.parse(["beforeSignup": "http://x.example/h"], secret: secret) }
        // Plain http only to this machine, judged on the parsed host, not on a prefix.
        for url in ["http://localhost.evil.example/h", "http://127.0.0.1.evil.example/h", "http://127.0.0.1@evil.example/h", "ftp://x.example", "https://"] {
            #expect(throws: HTTPHookConfigurationError.self, "\(url)") { try HTTPHooks.parse(["beforeSignup": .string(url)], secret: secret) }
        }
        for url in ["http://localhost:8080/h", "http://127.0.0.1/h", "http://[::1]:9000/h", "HTTPS://x.example/h"] {
            #expect(throws: Never.self, "\(url)") { try HTTPHooks.parse(["beforeSignup": .string(url)], secret: secret) }
        }
        #expect(throws: HTTPHookConfigurationError.self) {
            try HTTPHooks.parse(["beforeSignup": .object(["url": "https://x.example", "timeoutMs": 0])], secret: secret)
        }
        let parsed = try HTTPHooks.parse(["guards.beforeAuth": .object(["url": "https://x.example/h", "timeoutMs": 800])], secret: secret)
        #expect(parsed.endpoints[.beforeAuth]?.timeout == .milliseconds(800))
    }
}
