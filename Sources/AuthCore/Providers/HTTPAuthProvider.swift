#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A login provider the operator runs as an HTTP endpoint (AUTH_PROVIDERS kind `http`), so a
/// deployment adds one without recompiling authd: authd POSTs
/// `{provider, tenant: {id, slug}, credentials, ip, userAgent}` signed as Standard Webhooks
/// define it, and the endpoint answers 200 `{userId? | providerUserId?, email?, emailVerified?,
/// profile?}` to accept (the endpoint is the operator's own directory, so its `email` counts as
/// verified unless it says `emailVerified: false`), or 400/401/403 to refuse
/// (`INVALID_CREDENTIALS`). Anything else (a 404: a wrong URL), or no answer within the timeout,
/// is 503 `PROVIDER_UNAVAILABLE`.
public struct HTTPAuthProvider: AuthProvider {
    public let name: String
    public let requiredFields: [String]
    public let skipMFA: Bool
    let url: String
    let secret: StandardWebhooks.Secret
    let http: ProviderHTTP

    public init(name: String, url: String, secret: StandardWebhooks.Secret, requiredFields: [String], skipMFA: Bool = false,
                http: ProviderHTTP = ProviderHTTP()) {
        self.name = name
        self.url = url
        self.secret = secret
        self.requiredFields = requiredFields
        self.skipMFA = skipMFA
        self.http = http
    }

    public var clientConfig: JSONObject {
        ["kind": .string("custom"), "credentials": .array(requiredFields.map(JSONValue.string))]
    }

    public func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity {
        let body = JSONValue.object([
            "provider": .string(name),
            "tenant": .object(["id": .string(context.tenant.id.uuidString.lowercased()), "slug": .string(context.tenant.slug)]),
            "credentials": .object(credentials),
            "ip": context.request.ipAddress.map(JSONValue.string) ?? .null,
            "userAgent": context.request.userAgent.map(JSONValue.string) ?? .null,
        ]).jsonText
        let headers = StandardWebhooks.headers(
            id: "login_" + UUID().uuidString.lowercased(), timestamp: Int(context.now.timeIntervalSince1970), body: body, secret: secret)
        let reply = try await http.post(url, contentType: "application/json", body: body, headers: headers)
        switch reply.status {
        case 200:
            break
        case 400, 401, 403:
            throw AuthError(.invalidCredentials, cause: ProviderRefusal(provider: name, reason: "endpoint refused (\(reply.status))"))
        default:
            throw AuthError(.providerUnavailable, message: "The login provider answered \(reply.status)", retryAfter: 5)
        }
        let o = reply.body.objectValue
        let userID = o["userId"]?.stringValue.flatMap(UUID.init(uuidString:))
        let email = o["email"]?.stringValue
        guard let subject = o["providerUserId"]?.stringValue ?? userID?.uuidString.lowercased() ?? email, !subject.isEmpty,
              subject.utf8.count <= 255
        else {
            throw AuthError(.providerUnavailable, message: "The login provider's answer names no user", retryAfter: 5)
        }
        return ExternalIdentity(
            subject: subject, email: email, emailVerified: o["emailVerified"]?.boolValue ?? (email != nil), userID: userID,
            profile: o["profile"]?.objectValue ?? [:])
    }
}
