import AuthCore
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import TestSupport
import Testing

/// API.md's input rules at the HTTP boundary: bad input is a 400 naming the field and changes
/// nothing; no request makes the server answer 500.
@Suite struct InputValidationTests {
    /// libpq would have stored "a" for "a\0b@…" (text parameters are C strings).
    @Test func nulInAFieldIsRefusedNamingIt() async throws {
        try await TestApp.with { app, client in
            let r = try await client.call(.post, "/auth/signup", raw: #"{"email":"a\u0000b@example.com","password":"correct horse battery"}"#)
            #expect(r.status == .badRequest && r.code == "INVALID_INPUT")
            #expect(r.object["message"]?.stringValue?.hasPrefix("email:") == true, "\(r.raw)")
            let nested = try await client.call(.post, "/auth/login", raw: #"{"credentials":{"email":"ann@example.com","password":"x\u0000y"}}"#)
            #expect(nested.code == "INVALID_INPUT" && nested.object["message"]?.stringValue?.hasPrefix("credentials.password:") == true)
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 0)
        }
    }

    /// A profile field with NUL never reaches a SQL hook's jsonb (before: 500 HOOK_FAILED).
    @Test func nulInAProfileFieldIsBadInputNotAHookFailure() async throws {
        try await TestApp.with(sqlHooks: try SQLHookTests.bindings()) { app, client in
            try await app.pool.withConnection { try await $0.execute(SQLHookTests.functions) }
            let r = try await client.call(
                .post, "/auth/signup", raw: #"{"email":"ann@example.com","password":"correct horse battery","bio":"a\u0000b"}"#)
            #expect(r.status == .badRequest && r.code == "INVALID_INPUT", "\(r.raw)")
            #expect(r.object["message"]?.stringValue?.hasPrefix("bio:") == true)
        }
    }

    @Test(arguments: ["\u{01}", "\u{1b}[31m", "\n", "\u{7f}", "\u{85}"])
    func controlCharactersInTextFieldsAreRefused(_ control: String) async throws {
        try await TestApp.with { app, client in
            let email = try await client.call(.post, "/auth/signup", json: .object(["email": .string("ann\(control)@example.com"), "password": .string("correct horse battery")]))
            #expect(email.code == "INVALID_INPUT" && email.object["message"]?.stringValue?.hasPrefix("email:") == true, "\(email.raw)")
            let tenant = try await client.call(.post, "/auth/login", json: .object(["tenantId": .string("acme\(control)"), "credentials": .object([:])]))
            #expect(tenant.code == "INVALID_INPUT" && tenant.object["message"]?.stringValue?.hasPrefix("tenantId:") == true, "\(tenant.raw)")
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 0)
        }
    }

    /// Bad bytes are refused, not replaced by U+FFFD: two different passwords must never become
    /// one (before: login answered MISSING_REQUIRED_FIELDS, and a signup stored the repaired text).
    @Test func invalidUTF8IsRefused() async throws {
        try await TestApp.with { app, client in
            _ = try await client.signup("ann@example.com")
            let login = Array(#"{"credentials":{"email":"ann@example.com","password":"correct horse "#.utf8) + [0xFF, 0xFE] + Array(#""}}"#.utf8)
            let r = try await client.callBytes(.post, "/auth/login", bytes: login)
            #expect(r.status == .badRequest && r.code == "INVALID_INPUT", "\(r.raw)")
            let signup = Array(#"{"email":"bob@example.com","password":"correct horse "#.utf8) + [0xC3, 0x28] + Array(#" battery"}"#.utf8)
            let s = try await client.callBytes(.post, "/auth/signup", bytes: signup)
            #expect(s.code == "INVALID_INPUT")
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 1)
        }
    }

    /// A field of the wrong type is named, never ignored.
    @Test func wrongTypesAreNamed() async throws {
        try await TestApp.with { _, client in
            _ = try await client.signup("ann@example.com")
            let cases: [(JSONObject, String)] = [
                (["credentials": .object(["email": .string("ann@example.com"), "password": .string("correct horse battery")]), "rememberMe": .string("yes")], "rememberMe"),
                (["credentials": .object(["email": .int(1), "password": .string("x")])], "credentials.email"),
                (["credentials": .string("x")], "credentials"),
                (["providerName": .bool(true), "credentials": .object([:])], "providerName"),
            ]
            for (body, field) in cases {
                let r = try await client.call(.post, "/auth/login", json: .object(body))
                #expect(r.status == .badRequest && r.code == "INVALID_INPUT", "\(field): \(r.raw)")
                #expect(r.object["message"]?.stringValue?.hasPrefix("\(field):") == true, "\(r.raw)")
            }
            // The right type works, and rememberMe false makes session cookies in cookie mode.
            let ok = try await client.call(
                .post, "/auth/login",
                json: .object(["credentials": .object(["email": .string("ann@example.com"), "password": .string("correct horse battery")]), "rememberMe": .bool(false)]),
                headers: ["x-access-token-type": "cookie"])
            #expect(ok.status == .ok)
            #expect(ok.setCookies.filter { $0.hasPrefix("accessToken=") || $0.hasPrefix("refreshToken=") }.allSatisfy { !$0.contains("Max-Age") })
        }
    }

    /// A browser form can post cross-site without a preflight; JSON cannot. Before, `text/plain`
    /// bodies were parsed as JSON, so login and signup could be forged in cookie mode.
    @Test func jsonRoutesRequireAJSONContentType() async throws {
        try await TestApp.with { app, client in
            let json = #"{"email":"ann@example.com","password":"correct horse battery"}"#
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let r = try await client.callBytes(.post, "/auth/signup", bytes: Array(json.utf8), contentType: type)
                #expect(r.status == .unsupportedMediaType && r.code == "UNSUPPORTED_MEDIA_TYPE", "\(type): \(r.raw)")
            }
            let missing = try await client.callBytes(.post, "/auth/signup", bytes: Array(json.utf8), contentType: nil)
            #expect(missing.status == .unsupportedMediaType)
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 0)
            // Parameters and +json types are JSON.
            let withCharset = try await client.callBytes(.post, "/auth/signup", bytes: Array(json.utf8), contentType: "application/json; charset=utf-8")
            #expect(withCharset.status == .ok)
            let problemJSON = try await client.callBytes(
                .post, "/auth/login", bytes: Array(#"{"credentials":{"email":"ann@example.com","password":"correct horse battery"}}"#.utf8),
                contentType: "application/vnd.api+json")
            #expect(problemJSON.status == .ok)
            // No body and no content type: an empty object (logout from a bare curl).
            let bare = try await client.callBytes(.post, "/auth/logout", bytes: [], contentType: nil)
            #expect(bare.status == .ok)
        }
    }

    /// Cookie-mode login and signup set cookies: another site's page must not be able to make a
    /// browser do them (login CSRF signs the victim into the attacker's account).
    @Test func cookieModeLoginAndSignupCheckTheOrigin() async throws {
        try await TestApp.with(configure: { $0.accessTokenType = .cookie }) { _, client in
            let evil = ["origin": "https://evil.example"]
            let signup = try await client.call(
                .post, "/auth/signup", json: .object(["email": .string("ann@example.com"), "password": .string("correct horse battery")]), headers: evil)
            #expect(signup.status == .forbidden && signup.code == "CSRF_ORIGIN_REJECTED")
            #expect(signup.setCookies.isEmpty)
            let ok = try await client.signup("ann@example.com")
            #expect(ok.status == .ok)
            let login = try await client.login("ann@example.com", headers: evil)
            #expect(login.status == .forbidden && login.code == "CSRF_ORIGIN_REJECTED")
            let refresh = try await client.call(.post, "/auth/refresh-token", json: .object([:]), headers: evil)
            #expect(refresh.code == "CSRF_ORIGIN_REJECTED")
        }
    }

    /// A guarded write whose body names another tenant than the token (before: silently ignored).
    @Test func aBodyTenantNamingAnotherTenantIsForbiddenAndChangesNothing() async throws {
        try await TestApp.with { app, client in
            let other = try await app.tenant("other")
            let access = try #require(try await client.signup("ann@example.com").accessToken)
            let r = try await client.call(.post, "/auth/logout-all", json: .object(["tenantId": .string(other.slug)]), bearer: access)
            #expect(r.status == .forbidden && r.code == "INVALID_TENANT")
            #expect(try await client.call(.get, "/auth/me", bearer: access).status == .ok, "nothing was revoked")
            let byID = try await client.call(.post, "/auth/logout-all", json: .object(["tenantId": .string(other.id.uuidString)]), bearer: access)
            #expect(byID.code == "INVALID_TENANT")
            // Naming its own tenant, by slug or id, is fine.
            let tenant = try await app.defaultTenant()
            let own = try await client.call(.post, "/auth/logout-all", json: .object(["tenantId": .string(tenant.id.uuidString)]), bearer: access)
            #expect(own.status == .ok)
            #expect(own.object["message"] == .string("Logged out from all devices successfully"))
        }
    }

    @Test func tenantLookupBySlugOnly() async throws {
        try await TestApp.with { app, client in
            let acme = try await app.tenant("acme")
            let r = try await client.call(.get, "/auth/tenants/lookup?slug=\(acme.slug)")
            #expect(r.status == .ok)
            #expect(r.object == ["id": .string(acme.id.uuidString.lowercased()), "slug": .string(acme.slug), "name": .string(acme.name)])
            #expect(try await client.call(.get, "/auth/tenants/lookup?slug=nope-nope").code == "TENANT_NOT_FOUND")
            // Never by id (that would let ids be walked), and a malformed slug is just not found.
            #expect(try await client.call(.get, "/auth/tenants/lookup?slug=\(acme.id.uuidString)").code == "TENANT_NOT_FOUND")
            #expect(try await client.call(.get, "/auth/tenants/lookup?slug=A%20B").code == "TENANT_NOT_FOUND")
            #expect(try await client.call(.get, "/auth/tenants/lookup").code == "INVALID_INPUT")
        }
    }

    /// `Authorization: Bearer` with nothing after it is no credential (before: INVALID_AUTH_TYPE).
    @Test func anEmptyBearerIsNoCredential() async throws {
        try await TestApp.with { _, client in
            for value in ["Bearer", "Bearer ", "bearer   "] {
                let r = try await client.call(.get, "/auth/me", headers: ["authorization": value])
                #expect(r.status == .unauthorized && r.code == "NO_AUTH_PROVIDED", "\(value): \(r.raw)")
            }
            #expect(try await client.call(.get, "/auth/me", headers: ["authorization": "Basic abc"]).code == "INVALID_AUTH_TYPE")
        }
    }

    /// Every answer carries its request id; a proxy's own id is kept when it is a sane one.
    @Test func requestIDsAreEchoed() async throws {
        try await TestApp.with { _, client in
            let mine = try await client.call(.get, "/health/live", headers: ["x-request-id": "edge-1234:abc"])
            #expect(mine.headers[HTTPField.Name("x-request-id")!] == "edge-1234:abc")
            let generated = try await client.call(.get, "/auth/me")
            #expect(generated.headers[HTTPField.Name("x-request-id")!]?.isEmpty == false, "errors too")
            let hostile = try await client.call(.get, "/health/live", headers: ["x-request-id": "a b\u{7f}"])
            #expect(hostile.headers[HTTPField.Name("x-request-id")!] != "a b\u{7f}")
        }
    }
}

/// The guarded context can only be made from a request the guard authenticated.
@Suite struct AuthenticatedContextTests {
    @Test func aGuardedRouteWithoutTheGuardFailsClosed() async throws {
        let router = Router(context: AuthRequestContext.self)
        router.add(middleware: ErrorEnvelopeMiddleware())
        // A guarded group whose guard someone forgot: the context cannot be made.
        router.group("auth").group(context: AuthenticatedContext.self).get("me") { _, context in
            context.principal.user.id.uuidString
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/auth/me", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("NO_AUTH_PROVIDED"))
            }
        }
    }
}
