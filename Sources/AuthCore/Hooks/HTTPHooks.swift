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
    public struct Endpoint: Sendable, Equatable {
        public var url: String
        public var timeout: Duration

        public init(url: String, timeout: Duration = .seconds(2)) {
            self.url = url
            self.timeout = timeout
        }
    }

    /// The deployment's bindings.
    public var endpoints: [Point: Endpoint]
    /// Tenant slug → its own bindings, which replace the deployment's for that point (nil: no
    /// call at that point for the tenant). Like `AUTH_SQL_HOOKS`, only operators bind them.
    public var tenants: [String: [Point: Endpoint?]]
    let secret: StandardWebhooks.Secret
    let logger: Logger

    public init(
        endpoints: [Point: Endpoint], tenants: [String: [Point: Endpoint?]] = [:], secret: StandardWebhooks.Secret,
        logger: Logger = Logger(label: "authd.hooks.http")
    ) {
        self.endpoints = endpoints
        self.tenants = tenants
        self.secret = secret
        self.logger = logger
    }

    /// Parses `AUTH_HTTP_HOOKS`: `{"beforeSignup": "https://…" | {"url": "https://…", "timeoutMs": 2000}, …,
    /// "tenants": {"acme": {"beforeSignup": "https://acme…", "session.onCreated": null}}}`.
    public static func parse(_ config: JSONObject, secret: StandardWebhooks.Secret) throws -> HTTPHooks {
        var endpoints: [Point: Endpoint] = [:]
        for (key, value) in config where key != "tenants" {
            endpoints[try point(key)] = try endpoint(key, value)
        }
        var tenants: [String: [Point: Endpoint?]] = [:]
        if let perTenant = config["tenants"] {
            guard case .object(let slugs) = perTenant else { throw HTTPHookConfigurationError("tenants must be an object of tenant slugs") }
            for (slug, bindings) in slugs {
                guard (try? TenantSlug(slug)) != nil else { throw HTTPHookConfigurationError("tenants: \(slug) is not a tenant slug") }
                guard case .object(let points) = bindings else { throw HTTPHookConfigurationError("tenants.\(slug) must be an object") }
                var bound: [Point: Endpoint?] = [:]
                for (key, value) in points {
                    bound[try point(key)] = value == .null ? .some(nil) : try endpoint("tenants.\(slug).\(key)", value)
                }
                tenants[slug] = bound
            }
        }
        return HTTPHooks(endpoints: endpoints, tenants: tenants, secret: secret)
    }

    private static func point(_ key: String) throws -> Point {
        guard let point = Point(rawValue: key) else {
            throw HTTPHookConfigurationError("\(key) is not an HTTP hook point (\(Point.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return point
    }

    private static func endpoint(_ key: String, _ value: JSONValue) throws -> Endpoint {
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
        guard let url, Self.isAllowed(url) else {
            throw HTTPHookConfigurationError("\(key): needs an https URL (http only to this machine)")
        }
        return Endpoint(url: url, timeout: timeout)
    }

    /// An https URL with a host, or plain http to this machine only — judged on the parsed
    /// host, so `http://localhost.example.com` or `http://127.0.0.1@evil` is not "this machine".
    static func isAllowed(_ url: String) -> Bool {
        guard let parts = URLComponents(string: url), let host = parts.host?.lowercased(), !host.isEmpty else { return false }
        switch parts.scheme?.lowercased() {
        case "https": return true
        case "http": return parts.user == nil && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        default: return false
        }
    }

    /// Where `point` goes for the tenant the hook runs for (`HookTenant.current`): its own
    /// binding when it has one for the point, else the deployment's.
    func endpoint(_ point: Point) -> Endpoint? {
        if let slug = HookTenant.current?.slug, let own = tenants[slug], let bound = own[point] { return bound }
        return endpoints[point]
    }

    /// Whether anything binds `point` (the deployment or any tenant).
    private func binds(_ point: Point) -> Bool {
        endpoints[point] != nil || tenants.values.contains { $0[point] != nil }
    }

    /// `hooks` with the bound points added: a Swift hook at the same point runs first.
    public func installed(into hooks: AuthHooks) -> AuthHooks {
        var out = hooks
        if binds(.beforeSignup) {
            let previous = hooks.beforeSignup
            out.beforeSignup = { input, request in
                let input = try await previous?(input, request) ?? input
                guard let endpoint = endpoint(.beforeSignup) else { return input }
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
        if binds(.beforeAuth) {
            let previous = hooks.guards.beforeAuth
            out.guards.beforeAuth = { request in
                if let decision = try await previous?(request), decision.reject { return decision }
                guard let endpoint = endpoint(.beforeAuth) else { return .allow }
                try await decide(.beforeAuth, endpoint, ["request": Self.describe(request)])
                return .allow
            }
        }
        if binds(.sessionCreated) {
            let previous = hooks.session.onCreated
            out.session.onCreated = { session, user in
                await previous?(session, user)
                guard let endpoint = endpoint(.sessionCreated) else { return }
                await notify(.sessionCreated, endpoint, ["session": .object(session.json(current: false)), "user": .object(user.json)])
            }
        }
        if binds(.sessionRefreshed) {
            let previous = hooks.session.onRefreshed
            out.session.onRefreshed = { old, new in
                await previous?(old, new)
                guard let endpoint = endpoint(.sessionRefreshed) else { return }
                await notify(.sessionRefreshed, endpoint, ["previous": .object(old.json(current: false)), "session": .object(new.json(current: false))])
            }
        }
        if binds(.sessionRevoked) {
            let previous = hooks.session.onRevoked
            out.session.onRevoked = { session, reason in
                await previous?(session, reason)
                guard let endpoint = endpoint(.sessionRevoked) else { return }
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
        if let tenant = HookTenant.current {
            body["tenant"] = .object(["id": .string(tenant.id.uuidString.lowercased()), "slug": .string(tenant.slug)])
        }
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
