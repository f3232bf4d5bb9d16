import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// CSRF protection of cookie-authenticated writes (DESIGN.md §6).
@Suite struct CSRFTests {
    /// A cookie-mode login: the three cookie values and the body's CSRF token.
    struct CookieSession {
        var access: String
        var refresh: String
        var csrf: String

        var cookieHeader: String { "accessToken=\(access); refreshToken=\(refresh); authd_csrf=\(csrf)" }
    }

    static func cookieValue(_ reply: Reply, _ name: String) throws -> String {
        let cookie = try #require(reply.setCookies.first { $0.hasPrefix(name + "=") })
        return String(cookie.prefix { $0 != ";" }.dropFirst(name.count + 1))
    }

    static func cookieLogin(_ client: any TestClientProtocol, _ email: String) async throws -> CookieSession {
        _ = try await client.signup(email)
        let reply = try await client.login(email, headers: ["x-access-token-type": "cookie"])
        #expect(reply.status == .ok)
        let csrf = try cookieValue(reply, "authd_csrf")
        #expect(reply.object["csrfToken"] == .string(csrf))
        let raw = try #require(reply.setCookies.first { $0.hasPrefix("authd_csrf=") })
        #expect(!raw.contains("HttpOnly"), "the page must be able to read it")
        return CookieSession(access: try cookieValue(reply, "accessToken"), refresh: try cookieValue(reply, "refreshToken"), csrf: csrf)
    }

    @Test func cookieWritesNeedTheSessionsToken() async throws {
        try await TestApp.with { app, client in
            let s = try await Self.cookieLogin(client, "ann@example.com")
            let cookie = ["cookie": s.cookieHeader, "x-access-token-type": "cookie"]
            // Reads need no token.
            #expect(try await client.call(.get, "/auth/me", headers: cookie).status == .ok)
            // A write without the header, or with a forged one, changes nothing.
            let missing = try await client.call(.post, "/auth/logout-all", headers: cookie)
            #expect(missing.status == .forbidden && missing.code == "CSRF_TOKEN_INVALID")
            var forged = cookie
            forged["x-csrf-token"] = s.csrf.dropLast(2) + "AA"
            #expect(try await client.call(.post, "/auth/logout-all", headers: forged).code == "CSRF_TOKEN_INVALID")
            let tenant = try await app.defaultTenant()
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions WHERE revoked_at IS NULL") == 2)
            // With it, the write goes through.
            var good = cookie
            good["x-csrf-token"] = s.csrf
            #expect(try await client.call(.post, "/auth/logout-all", headers: good).status == .ok)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions WHERE revoked_at IS NULL") == 0)
        }
    }

    @Test func aTokenOfAnotherSessionIsRefused() async throws {
        try await TestApp.with { _, client in
            let ann = try await Self.cookieLogin(client, "ann@example.com")
            let bob = try await Self.cookieLogin(client, "bob@example.com")
            let reply = try await client.call(
                .post, "/auth/logout-all", headers: ["cookie": ann.cookieHeader, "x-access-token-type": "cookie", "x-csrf-token": bob.csrf])
            #expect(reply.code == "CSRF_TOKEN_INVALID")
        }
    }

    @Test func refreshAndLogoutByCookieAreChecked() async throws {
        try await TestApp.with { _, client in
            let s = try await Self.cookieLogin(client, "ann@example.com")
            let refreshOnly = ["cookie": "refreshToken=\(s.refresh)", "x-access-token-type": "cookie"]
            let refused = try await client.call(.post, "/auth/refresh-token", headers: refreshOnly)
            #expect(refused.code == "CSRF_TOKEN_INVALID")
            var withToken = refreshOnly
            withToken["x-csrf-token"] = s.csrf
            let refreshed = try await client.call(.post, "/auth/refresh-token", headers: withToken)
            #expect(refreshed.status == .ok, "the refused attempt rotated nothing")
            let next = try Self.cookieValue(refreshed, "refreshToken")
            let nextCSRF = try Self.cookieValue(refreshed, "authd_csrf")
            // Logout with only the refresh cookie: refused without the token, done with it.
            let noToken = try await client.call(.post, "/auth/logout", headers: ["cookie": "refreshToken=\(next)"])
            #expect(noToken.code == "CSRF_TOKEN_INVALID")
            let out = try await client.call(.post, "/auth/logout", headers: ["cookie": "refreshToken=\(next)", "x-csrf-token": nextCSRF])
            #expect(out.status == .ok)
            #expect(try await client.call(.post, "/auth/refresh-token", headers: ["cookie": "refreshToken=\(next)", "x-csrf-token": nextCSRF]).status
                == .unauthorized)
        }
    }

    /// `rememberMe: false` gives session cookies, and refreshes keep them so (before, the first
    /// refresh answered with persistent cookies: the login outlived the browser session). A
    /// later remembered login clears the mark.
    @Test func aSessionOnlyLoginStaysSessionOnlyAcrossRefreshes() async throws {
        try await TestApp.with { _, client in
            _ = try await client.signup("ann@example.com")
            let login = try await client.call(
                .post, "/auth/login",
                json: .object(["credentials": .object(["email": .string("ann@example.com"), "password": .string("correct horse battery")]), "rememberMe": .bool(false)]),
                headers: ["x-access-token-type": "cookie"])
            #expect(login.status == .ok)
            let tokenCookies = { (r: Reply) in r.setCookies.filter { $0.hasPrefix("accessToken=") || $0.hasPrefix("refreshToken=") } }
            #expect(tokenCookies(login).count == 2 && tokenCookies(login).allSatisfy { !$0.contains("Max-Age") })
            #expect(try Self.cookieValue(login, "authd_session_only") == "1")
            let refreshed = try await client.call(
                .post, "/auth/refresh-token",
                headers: [
                    "cookie": "refreshToken=\(try Self.cookieValue(login, "refreshToken")); authd_session_only=1", "x-access-token-type": "cookie",
                    "x-csrf-token": try Self.cookieValue(login, "authd_csrf"),
                ])
            #expect(refreshed.status == .ok)
            #expect(tokenCookies(refreshed).count == 2 && tokenCookies(refreshed).allSatisfy { !$0.contains("Max-Age") }, "\(refreshed.setCookies)")
            #expect(try Self.cookieValue(refreshed, "authd_session_only") == "1")
            // A remembered login: persistent cookies, and the mark is deleted.
            let remembered = try await client.login("ann@example.com", headers: ["x-access-token-type": "cookie"])
            #expect(tokenCookies(remembered).allSatisfy { $0.contains("Max-Age") })
            let mark = try #require(remembered.setCookies.first { $0.hasPrefix("authd_session_only=") })
            #expect(mark.contains("Max-Age=0"))
        }
    }

    /// A `refreshToken` body field of the wrong type does not stop a logout from using the
    /// refresh cookie (before, the cookie was ignored and the session stayed alive).
    @Test func logoutFallsBackToTheCookieWhenTheBodyFieldIsUnusable() async throws {
        try await TestApp.with { app, client in
            let s = try await Self.cookieLogin(client, "ann@example.com")  // signup's session and the login's
            let live = "SELECT count(*)::int8 FROM sessions WHERE revoked_at IS NULL"
            #expect(try await app.scalar(try await app.defaultTenant(), live) == 2)
            let out = try await client.call(
                .post, "/auth/logout", json: .object(["refreshToken": .int(7)]), headers: ["cookie": "refreshToken=\(s.refresh)", "x-csrf-token": s.csrf])
            #expect(out.status == .ok)
            #expect(try await app.scalar(try await app.defaultTenant(), live) == 1, "the cookie's session ended")
        }
    }

    /// A client that lost its CSRF cookie once its access token expired gets a token for the
    /// session its refresh cookie names, and can refresh again.
    @Test func theRefreshCookieAloneCanFetchAToken() async throws {
        try await TestApp.with { _, client in
            let s = try await Self.cookieLogin(client, "ann@example.com")
            let fresh = try await client.call(.get, "/auth/csrf", headers: ["cookie": "refreshToken=\(s.refresh)"])
            #expect(fresh.status == .ok)
            let token = try #require(fresh.object["csrfToken"]?.stringValue)
            let refreshed = try await client.call(
                .post, "/auth/refresh-token", headers: ["cookie": "refreshToken=\(s.refresh)", "x-access-token-type": "cookie", "x-csrf-token": token])
            #expect(refreshed.status == .ok)
            #expect(try await client.call(.get, "/auth/csrf").status == .unauthorized, "no session at all: 401")
        }
    }

    @Test func originMustBeOwnHostOrAllowed() async throws {
        try await TestApp.with(configure: { $0.csrfAllowedOrigins = ["https://app.example.com"] }) { _, client in
            let s = try await Self.cookieLogin(client, "ann@example.com")
            func post(origin: String) async throws -> Reply {
                try await client.call(
                    .delete, "/auth/sessions/\(UUID().uuidString.lowercased())",
                    headers: ["cookie": s.cookieHeader, "x-access-token-type": "cookie", "x-csrf-token": s.csrf, "origin": origin])
            }
            #expect(try await post(origin: "https://evil.example").code == "CSRF_ORIGIN_REJECTED")
            #expect(try await post(origin: "null").code == "CSRF_ORIGIN_REJECTED")
            // Allowed origins get past the CSRF check (the unknown session id is then a 404).
            #expect(try await post(origin: "https://app.example.com").code != "CSRF_ORIGIN_REJECTED")
            // Same origin: the test client sends its requests to authority "localhost".
            #expect(try await post(origin: "http://localhost").code != "CSRF_ORIGIN_REJECTED")
            #expect(try await post(origin: "http://localhost.evil.example").code == "CSRF_ORIGIN_REJECTED")
        }
    }

    @Test func headerModeAndTheCSRFRoute() async throws {
        try await TestApp.with { _, client in
            let signup = try await client.signup("ann@example.com")
            let access = try #require(signup.accessToken)
            // Bearer tokens are not sent by browsers on their own: no CSRF token needed.
            #expect(try await client.call(.post, "/auth/logout-all", bearer: access).status == .ok)
            let s = try await Self.cookieLogin(client, "bob@example.com")
            let fresh = try await client.call(.get, "/auth/csrf", headers: ["cookie": s.cookieHeader, "x-access-token-type": "cookie"])
            #expect(fresh.object["headerName"] == .string("x-csrf-token"))
            let token = try #require(fresh.object["csrfToken"]?.stringValue)
            #expect(try Self.cookieValue(fresh, "authd_csrf") == token)
            let ok = try await client.call(
                .post, "/auth/logout-all", headers: ["cookie": s.cookieHeader, "x-access-token-type": "cookie", "x-csrf-token": token])
            #expect(ok.status == .ok)
        }
    }
}
