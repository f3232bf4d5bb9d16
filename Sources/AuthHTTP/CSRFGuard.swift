import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird

/// CSRF protection for writes authenticated by a cookie (DESIGN.md §6). Such a request needs:
/// - an `Origin`, when the browser sends one, equal to the request's own host or listed in
///   `csrfAllowedOrigins` (else 403 `CSRF_ORIGIN_REJECTED`);
/// - an `x-csrf-token` header made for the session the cookie names (else 403
///   `CSRF_TOKEN_INVALID`). Cookie-mode answers set it as the readable `authd_csrf` cookie and
///   in the body as `csrfToken`; `GET /auth/csrf` hands out a fresh one.
/// Cookie-mode login, signup and refresh — which set cookies — get the Origin check too (a
/// forged login would sign a victim into the attacker's account). Requests authenticated by a
/// header or body token are not exposed to CSRF and are not checked.
struct CSRFGuard: Sendable {
    static let headerName = "x-csrf-token"
    static let cookieName = "authd_csrf"

    let settings: AuthSettings
    let tokens: CSRFTokens

    /// GET, HEAD and OPTIONS change nothing and are never checked.
    static func isWrite(_ request: Request) -> Bool {
        ![.get, .head, .options].contains(request.method)
    }

    /// Throws unless a cookie-authenticated write for `sessionID` passes both checks.
    func check(_ request: Request, sessionID: UUID) throws {
        guard settings.csrfProtection, Self.isWrite(request) else { return }
        try checkOrigin(request)
        guard let token = request.headers[HTTPField.Name(Self.headerName)!], tokens.verify(token, sessionID: sessionID)
        else { throw AuthError.csrfTokenInvalid }
    }

    /// Throws when a browser's `Origin` is neither the request's own host nor an allowed one.
    func checkOrigin(_ request: Request) throws {
        guard settings.csrfProtection, let origin = request.headers[.origin] else { return }
        guard originAllowed(origin, host: request.head.authority ?? request.headers[HTTPField.Name("host")!]) else {
            throw AuthError.csrfOriginRejected
        }
    }

    /// A fresh token for a session.
    func token(for sessionID: UUID) throws -> String {
        try tokens.make(for: sessionID)
    }

    private func originAllowed(_ origin: String, host: String?) -> Bool {
        let origin = origin.lowercased()
        if settings.csrfAllowedOrigins.contains(origin) { return true }
        // Same origin: the Origin's authority is the Host the request was sent to.
        guard let host = host?.lowercased(), let schemeEnd = origin.range(of: "://") else { return false }
        return origin[schemeEnd.upperBound...] == host[...]
    }
}
