#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Hook points bound by configuration to the operator's HTTP endpoints (DESIGN.md §4, issue 20
/// item 4): the ones that run outside a transaction. authd POSTs a JSON body signed as Standard
/// Webhooks define it; no call ever holds a database connection or transaction.
///
/// - Decisions (`beforeSignup`, `guards.beforeAuth`) fail closed: the endpoint answers 2xx with
///   `{"allow": true}` (or no body at all) to let the request through, or
///   `{"allow": false, "code": "…", "message": "…", "status": 4xx}` to refuse it with that code
///   and status (403 when none or out of range); a timeout (default 2 s), a refused connection,
///   another status or an unreadable answer is 503 `HOOK_UNAVAILABLE` with `Retry-After`.
/// - Notifications (`session.onCreated`, `session.onRefreshed`, `session.onRevoked`) fail open:
///   they run from the after-commit queue, never delaying a response; a failure is logged.
///
/// Payloads never carry a password, token or code: a signup's `email`, `phone` and `profile`;
/// the request's method, path, IP and user agent; sessions without their refresh-token digest.
public struct HTTPHooks: Sendable {
    public enum Point: String, Sendable, CaseIterable {
        case beforeSignup
        case beforeAuth = "guards.beforeAuth"
        case sessionCreated = "session.onCreated"
        case sessionRefreshed = "session.onRefreshed"
        case sessionRevoked = "session.onRevoked"
    }

    /// Where a point's calls go.
    public struct Endpoint: Sendable {
        public var url: String
        public var timeout: Duration

        public init(url: String, timeout: Duration = .seconds(2)) {
            self.url = url
            self.timeout = timeout
        }
    }

    public var endpoints: [Point: Endpoint]
    let secret: StandardWebhooks.Secret
    let logger: Logger

    public init(endpoints: [Point: Endpoint], secret: StandardWebhooks.Secret, logger: Logger = Logger(label: "authd.hooks.http")) {
        self.endpoints = endpoints
        self.secret = secret
        self.logger = logger
    }

    /// Parses `AUTH_HTTP_HOOKS`: `{"beforeSignup": "https://…" | {"url": "https://…", "timeoutMs": 2000}, …}`.
    public static func parse(_ config: JSONObject, secret: StandardWebhooks.Secret) throws -> HTTPHooks {
        var endpoints: [Point: Endpoint] = [:]
        for (key, value) in config {
            guard let point = Point(rawValue: key) else {
                throw HTTPHookConfigurationError("\(key) is not an HTTP hook point (\(Point.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let url: String?
            var timeout = Duration.seconds(2)
            switch value {
            case .string(let s): url = s
            case .object(let o):
                url = o["url"]?.stringValue
                if let ms = o["timeoutMs"] {
                    guard let n = ms.intValue, (50...30_000).contains(n) else { throw HTTPHookConfigurationError("\(key).timeoutMs must be 50–30000") }
                    timeout = .milliseconds(n)
                }
            default: url = nil
            }
            guard let url, url.hasPrefix("https://") || url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost") else {
                throw HTTPHookConfigurationError("\(key): needs an https URL (http only to this machine)")
            }
            endpoints[point] = Endpoint(url: url, timeout: timeout)
        }
        return HTTPHooks(endpoints: endpoints, secret: secret)
    }

    /// `hooks` with the bound points added: a Swift hook at the same point runs first.
    public func installed(into hooks: AuthHooks) -> AuthHooks {
        var out = hooks
        if let endpoint = endpoints[.beforeSignup] {
            let previous = hooks.beforeSignup
            out.beforeSignup = { input, request in
                let input = try await previous?(input, request) ?? input
                try await decide(.beforeSignup, endpoint, [
                    "input": .object([
                        "email": input.email.map(JSONValue.string) ?? .null, "phone": input.phone.map(JSONValue.string) ?? .null,
                        "profile": .object(input.profile),
                    ]),
                    "request": Self.describe(request),
                ])
                return input
            }
        }
        if let endpoint = endpoints[.beforeAuth] {
            let previous = hooks.guards.beforeAuth
            out.guards.beforeAuth = { request in
                if let decision = try await previous?(request), decision.reject { return decision }
                try await decide(.beforeAuth, endpoint, ["request": Self.describe(request)])
                return .allow
            }
        }
        if let endpoint = endpoints[.sessionCreated] {
            let previous = hooks.session.onCreated
            out.session.onCreated = { session, user in
                await previous?(session, user)
                await notify(.sessionCreated, endpoint, ["session": .object(session.json(current: false)), "user": .object(user.json)])
            }
        }
        if let endpoint = endpoints[.sessionRefreshed] {
            let previous = hooks.session.onRefreshed
            out.session.onRefreshed = { old, new in
                await previous?(old, new)
                await notify(.sessionRefreshed, endpoint, ["previous": .object(old.json(current: false)), "session": .object(new.json(current: false))])
            }
        }
        if let endpoint = endpoints[.sessionRevoked] {
            let previous = hooks.session.onRevoked
            out.session.onRevoked = { session, reason in
                await previous?(session, reason)
                await notify(.sessionRevoked, endpoint, ["session": .object(session.json(current: false)), "reason": .string(reason)])
            }
        }
        return out
    }

    static func describe(_ request: AuthRequest) -> JSONValue {
        .object([
            "method": .string(request.method), "path": .string(request.path), "ip": request.ipAddress.map(JSONValue.string) ?? .null,
            "userAgent": request.userAgent.map(JSONValue.string) ?? .null,
        ])
    }

    /// A decision: returns to allow, throws the endpoint's refusal or 503 (fail closed).
    func decide(_ point: Point, _ endpoint: Endpoint, _ payload: JSONObject) async throws {
        let reply: ProviderHTTP.Reply
        do {
            reply = try await send(point, endpoint, payload)
        } catch {
            logger.error("HTTP hook failed: the request is refused", metadata: ["hook": "\(point.rawValue)", "error": "\(error)"])
            throw AuthError(.hookUnavailable, retryAfter: 5, cause: error)
        }
        guard (200..<300).contains(reply.status) else {
            logger.error("HTTP hook answered \(reply.status): the request is refused", metadata: ["hook": "\(point.rawValue)"])
            throw AuthError(.hookUnavailable, retryAfter: 5)
        }
        // Allowed only when said so (or by an empty answer): a proxy's "200 OK" page must not
        // let everything through.
        if reply.isEmpty { return }
        switch reply.body {
        case .object(let o):
            guard let allow = o["allow"]?.boolValue else {
                logger.error("HTTP hook answer has no allow: the request is refused", metadata: ["hook": "\(point.rawValue)"])
                throw AuthError(.hookUnavailable, retryAfter: 5)
            }
            if allow { return }
            throw AuthError.rejection(
                code: o["code"]?.stringValue ?? "HOOK_REJECTED", status: o["status"]?.intValue ?? 403,
                message: String((o["message"]?.stringValue ?? "Rejected").prefix(500)))
        default:
            throw AuthError(.hookUnavailable, retryAfter: 5)
        }
    }

    /// A notification: failures are logged, never thrown.
    func notify(_ point: Point, _ endpoint: Endpoint, _ payload: JSONObject) async {
        do {
            let reply = try await send(point, endpoint, payload)
            if !(200..<300).contains(reply.status) {
                logger.warning("HTTP hook answered \(reply.status)", metadata: ["hook": "\(point.rawValue)"])
            }
        } catch {
            logger.warning("HTTP hook failed", metadata: ["hook": "\(point.rawValue)", "error": "\(error)"])
        }
    }

    private func send(_ point: Point, _ endpoint: Endpoint, _ payload: JSONObject) async throws -> ProviderHTTP.Reply {
        var body = payload
        body["hook"] = .string(point.rawValue)
        let text = JSONValue.object(body).jsonText
        let headers = StandardWebhooks.headers(
            id: "hook_" + UUID().uuidString.lowercased(), timestamp: Int(Date().timeIntervalSince1970), body: text, secret: secret)
        return try await ProviderHTTP(timeout: endpoint.timeout).post(endpoint.url, contentType: "application/json", body: text, headers: headers)
    }
}

/// A mistake in `AUTH_HTTP_HOOKS`, found at start.
public struct HTTPHookConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
