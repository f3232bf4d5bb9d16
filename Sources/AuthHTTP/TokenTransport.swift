import AuthCore
import AuthCrypto
import HTTPTypes
import Hummingbird

/// Header mode vs cookie mode (API.md "Cookies and headers"): which one a request uses, how the
/// guard finds its access token, and the cookies a token answer sets or clears.
struct TokenTransport: Sendable {
    let settings: AuthSettings
    let hooks: AuthHooks
    let csrf: CSRFGuard

    /// Configuration, then `resolveConfig`, then the `x-access-token-type: cookie` header.
    func mode(for request: Request, auth: AuthRequest) async throws -> AuthSettings.TokenTransport {
        if let hook = hooks.resolveConfig, let chosen = try await hook(auth).accessTokenType { return chosen }
        if settings.accessTokenType == .cookie { return .cookie }
        return request.headers[HTTPField.Name("x-access-token-type")!]?.lowercased() == "cookie" ? .cookie : .header
    }

    /// The access token per mode; `Bearer` only, any other scheme is 401 `INVALID_AUTH_TYPE`.
    func accessToken(_ request: Request, mode: AuthSettings.TokenTransport) throws -> String? {
        switch mode {
        case .cookie:
            return request.cookies["accessToken"]?.value
        case .header:
            guard let header = request.headers[.authorization], !header.isEmpty else { return nil }
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw AuthError.invalidAuthType }
            // Plain trimming on the Substring: Foundation's trimmingCharacters(in:) bridges through
            // NSString on Linux and was a quarter of the guard's CPU.
            var token = parts[1]
            while token.first == " " || token.first == "\t" { token = token.dropFirst() }
            while token.last == " " || token.last == "\t" { token = token.dropLast() }
            return String(token)
        }
    }

    /// The refresh token: body field, else (cookie mode or not) the `refreshToken` cookie;
    /// `fromCookie` says which (a cookie-carried token makes the request a CSRF target).
    func refreshToken(_ request: Request, body: JSONObject) throws -> (token: String, fromCookie: Bool)? {
        if let fromBody = try JSONBody.string(body, "refreshToken", maxLength: 1024) { return (fromBody, false) }
        guard let cookie = request.cookies["refreshToken"] else { return nil }
        return (String(cookie.value), true)
    }

    /// An AuthResponse in this mode: cookie mode moves both tokens into httpOnly cookies.
    func respond(_ response: AuthResponse, mode: AuthSettings.TokenTransport) -> Response {
        var body = response.json
        var headers = HTTPFields()
        if mode == .cookie {
            body["accessToken"] = nil
            body["refreshToken"] = nil
            // Signup without auto-login has no tokens: leave the client's cookies alone.
            guard !response.accessToken.isEmpty else { return JSONBody.response(.object(body)) }
            headers.append(HTTPField(name: .setCookie, value: cookie("accessToken", response.accessToken, path: "/", maxAge: response.accessTokenExpiresIn)))
            headers.append(HTTPField(name: .setCookie, value: cookie("refreshToken", response.refreshToken, path: "/auth", maxAge: response.refreshTokenExpiresIn)))
            // The CSRF token for the new session's cookie-authenticated writes.
            if let session = RefreshToken.verify(response.refreshToken, keyring: csrf.keyring)?.sessionID,
               let token = try? csrf.token(for: session)
            {
                body["csrfToken"] = .string(token)
                headers.append(HTTPField(name: .setCookie, value: csrfCookie(token, maxAge: response.refreshTokenExpiresIn)))
            }
        }
        return JSONBody.response(.object(body), headers: headers)
    }

    /// Set-Cookie headers that delete both token cookies.
    func clearingCookies() -> HTTPFields {
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: cookie("accessToken", "", path: "/", maxAge: 0)))
        headers.append(HTTPField(name: .setCookie, value: cookie("refreshToken", "", path: "/auth", maxAge: 0)))
        headers.append(HTTPField(name: .setCookie, value: csrfCookie("", maxAge: 0)))
        return headers
    }

    /// The readable (not HttpOnly) cookie a page copies into `x-csrf-token`.
    func csrfCookie(_ token: String, maxAge: Int) -> String {
        var c = "\(CSRFGuard.cookieName)=\(token); Path=/; Max-Age=\(maxAge); SameSite=Lax"
        if settings.secureCookies { c += "; Secure" }
        return c
    }

    private func cookie(_ name: String, _ value: String, path: String, maxAge: Int) -> String {
        var c = "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        if settings.secureCookies { c += "; Secure" }
        return c
    }
}
