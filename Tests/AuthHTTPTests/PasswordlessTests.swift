import AuthCore
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Passwordless login (API.md): the same answer for every address; the code logs in once,
/// proves the address, and wrong guesses are capped like any code's.
@Suite struct PasswordlessTests {
    static func login(_ client: some TestClientProtocol, _ identifier: String, _ code: String) async throws -> Reply {
        try await client.call(
            .post, "/auth/login",
            json: .object(["providerName": .string("passwordless"), "credentials": .object(["identifier": .string(identifier), "code": .string(code)])]))
    }

    @Test func aCodeLogsInOnceAndProvesTheAddress() async throws {
        try await TestApp.with { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            let known = try await client.call(.post, "/auth/passwordless/send", json: .object(["identifier": .string("Ann@Example.com"), "channel": .string("email")]))
            let unknown = try await client.call(.post, "/auth/passwordless/send", json: .object(["identifier": .string("nobody@example.com"), "channel": .string("email")]))
            #expect(known.status == .ok && known.raw == unknown.raw)
            #expect(try await app.events(tenant, type: "auth.passwordless.code.requested").count == 1)
            let (code, data) = try await app.code(tenant, type: "auth.passwordless.code.requested")
            #expect(data["recipient"] == .string("ann@example.com"))
            let r = try await Self.login(client, "ann@example.com", code)
            #expect(r.status == .ok && r.accessToken != nil && r.object["message"] == .string("Login successful"))
            #expect(r.object["user"]?["emailVerifiedAt"]?.stringValue != nil)
            let logins = try await app.events(tenant, type: "auth.logged_in")
            #expect(logins.last?.data["provider"] == .string("passwordless"))
            #expect(try await Self.login(client, "ann@example.com", code).code == "INVALID_CREDENTIALS")
            #expect(try await Self.login(client, "nobody@example.com", code).code == "INVALID_CREDENTIALS")
        }
    }

    @Test func wrongCodesAreCountedAndCapped() async throws {
        try await TestApp.with(configure: { $0.codes.maxAttempts = 2 }) { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            _ = try await client.call(.post, "/auth/passwordless/send", json: .object(["identifier": .string("ann@example.com")]))
            let code = try await app.code(tenant, type: "auth.passwordless.code.requested").code
            for _ in 0..<2 { #expect(try await Self.login(client, "ann@example.com", VerificationTests.other(code)).code == "INVALID_CREDENTIALS") }
            #expect(try await Self.login(client, "ann@example.com", code).code == "INVALID_CREDENTIALS")
            let failures = try await app.events(tenant, type: "auth.login_failed")
            #expect(failures.count == 3 && failures.allSatisfy { $0.data["provider"] == .string("passwordless") })
        }
    }

    @Test func disabledIsSaid() async throws {
        try await TestApp.with(configure: { $0.passwordlessEnabled = false }) { _, client in
            let r = try await client.call(.post, "/auth/passwordless/send", json: .object(["identifier": .string("ann@example.com")]))
            #expect(r.status == .badRequest && r.code == "PASSWORDLESS_DISABLED")
            #expect(try await Self.login(client, "ann@example.com", "123456").code == "PASSWORDLESS_DISABLED")
        }
    }
}
