import AuthCore
import HTTPTypes
import Hummingbird

/// Header mode vs cookie mode (API.md "Cookies and headers"): which one a request uses, how the
/// guard finds its access token, and the cookies a token answer sets or clears.
struct TokenTransport: Sendable {
    let settings: AuthSettings
    let hooks: AuthHooks
    let tokens: TokenService
    let csrf: CSRFGuard

    init(env: AuthEnvironment) {
        settings = env.settings
        hooks = env.hooks
        tokens = env.tokens
        csrf = CSRFGuard(settings: env.settings, tokens: env.tokens.csrf)
    }

    /// Configuration, then `resolveConfig`, then the `x-access-token-type: cookie` header.
    func mode(for request: Request, auth: AuthRequest) async throws -> AuthSettings.TokenTransport {
        if let hook = hooks.resolveConfig, let chosen = try await hook(auth).accessTokenType { return chosen }
        if settings.accessTokenType == .cookie { return .cookie }
        return request.headers[HTTPField.Name("x-access-token-type")!]?.lowercased() == "cookie" ? .cookie : .header
    }

    /// The access token per mode; `Bearer` only, any other scheme is 401 `INVALID_AUTH_TYPE`, and
    /// `Bearer` with nothing after it is no credential at all (401 `NO_AUTH_PROVIDED`).
    func accessToken(_ request: Request, mode: AuthSettings.TokenTransport) throws -> String? {
        switch mode {
        case .cookie:
            return request.cookies["accessToken"]?.value
        case .header:
            guard let header = request.headers[.authorization], !header.isEmpty else { return nil }
            // Byte-level parsing (no lower-casing copies, no Foundation trimming, which bridges
            // through NSString on Linux): this runs on every guarded request.
            let utf8 = header.utf8
            let scheme = utf8.prefix { $0 != UInt8(ascii: " ") }
            guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { throw AuthError.invalidAuthType }
            let token = Substring(header.utf8.dropFirst(6)).trimmingSpaces()
            return token.isEmpty ? nil : String(token)
        }
    }

    /// The key of `Authorization: ApiKey <key>` (scheme in any case), whatever the token mode.
    func apiKey(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let scheme = header.utf8.prefix { $0 != UInt8(ascii: " ") }
        guard scheme.count == 6, zip(scheme, "apikey".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        return String(Substring(header.utf8.dropFirst(6)).trimmingSpaces())
    }

    /// The refresh token: body field, else (cookie mode or not) the `refreshToken` cookie;
    /// `fromCookie` says which (a cookie-carried token makes the request a CSRF target).
    func refreshToken(_ request: Request, body: JSONFields) throws -> (token: String, fromCookie: Bool)? {
        if let fromBody = try body.string("refreshToken", maxLength: 1024) { return (fromBody, false) }
        guard let cookie = request.cookies["refreshToken"] else { return nil }
        return (String(cookie.value), true)
    }

    /// Set (as a session cookie, next to the refresh cookie) after a `rememberMe: false` login,
    /// so refreshes keep issuing session cookies: without it the first refresh made them
    /// persistent and the login outlived the browser session it was meant to end with.
    static let sessionOnlyCookie = "authd_session_only"

    /// Whether a refresh continues a `rememberMe: false` login (see `sessionOnlyCookie`).
    func isSessionOnly(_ request: Request) -> Bool {
        request.cookies[Self.sessionOnlyCookie]?.value == "1"
    }

    /// An AuthResponse in this mode: cookie mode moves both tokens into httpOnly cookies
    /// (session cookies when `persistent` is false: `rememberMe: false`).
    func respond(_ response: AuthResponse, mode: AuthSettings.TokenTransport, persistent: Bool = true) -> Response {
        var body = response.json
        var headers = HTTPFields()
        if mode == .cookie {
            body["accessToken"] = nil
            body["refreshToken"] = nil
            // Set as an httpOnly cookie by the MFA route: not for page scripts.
            body["trustToken"] = nil
            // Signup without auto-login has no tokens: leave the client's cookies alone.
            guard !response.accessToken.isEmpty else { return JSONResponse.make(.object(body)) }
            let accessAge = persistent ? response.accessTokenExpiresIn : nil
            let refreshAge = persistent ? response.refreshTokenExpiresIn : nil
            headers.append(HTTPField(name: .setCookie, value: cookie("accessToken", response.accessToken, path: "/", maxAge: accessAge)))
            headers.append(HTTPField(name: .setCookie, value: cookie("refreshToken", response.refreshToken, path: "/auth", maxAge: refreshAge)))
            headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionOnlyCookie, persistent ? "" : "1", path: "/auth", maxAge: persistent ? 0 : nil)))
            // The CSRF token for the new session's cookie-authenticated writes.
            if let session = tokens.sessionID(ofRefreshToken: response.refreshToken), let token = try? csrf.token(for: session) {
                body["csrfToken"] = .string(token)
                headers.append(HTTPField(name: .setCookie, value: csrfCookie(token, maxAge: refreshAge)))
            }
        }
        return JSONResponse.make(.object(body), headers: headers)
    }

    /// Set-Cookie headers that delete both token cookies.
    func clearingCookies() -> HTTPFields {
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: cookie("accessToken", "", path: "/", maxAge: 0)))
        headers.append(HTTPField(name: .setCookie, value: cookie("refreshToken", "", path: "/auth", maxAge: 0)))
        headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionOnlyCookie, "", path: "/auth", maxAge: 0)))
        headers.append(HTTPField(name: .setCookie, value: csrfCookie("", maxAge: 0)))
        return headers
    }

    /// The readable (not HttpOnly) cookie a page copies into `x-csrf-token`.
    func csrfCookie(_ token: String, maxAge: Int?) -> String {
        var c = "\(CSRFGuard.cookieName)=\(token); Path=/"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        c += "; SameSite=Lax"
        if settings.secureCookies { c += "; Secure" }
        return c
    }

    /// `maxAge` nil: a session cookie.
    /// The trusted-device cookie (httpOnly, sent back only to `/auth` where login reads it).
    func trustCookie(_ token: String, maxAge: Int) -> String {
        cookie("authd_device_trust", token, path: "/auth", maxAge: maxAge)
    }

    private func cookie(_ name: String, _ value: String, path: String, maxAge: Int?) -> String {
        var c = "\(name)=\(value); Path=\(path)"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        c += "; HttpOnly; SameSite=Lax"
        if settings.secureCookies { c += "; Secure" }
        return c
    }
}
