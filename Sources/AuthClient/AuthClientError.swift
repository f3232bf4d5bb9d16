#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// Why a request was refused, answered in authd's error envelope (`{statusCode, code, message}`)
/// with authd's codes, so a client sees the same failure from a backend as from authd itself.
public struct AuthClientError: HTTPResponseError, Sendable, Equatable, CustomStringConvertible {
    public var statusCode: Int
    public var code: String
    public var message: String
    /// Seconds to wait before retrying (`Retry-After`), for 503s.
    public var retryAfter: Int?

    public init(statusCode: Int, code: String, message: String, retryAfter: Int? = nil) {
        self.statusCode = statusCode
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// No bearer token on the request.
    public static let noAuthProvided = AuthClientError(statusCode: 401, code: "NO_AUTH_PROVIDED", message: "No authentication provided")
    /// An `Authorization` scheme other than `Bearer`.
    public static let invalidAuthType = AuthClientError(statusCode: 401, code: "INVALID_AUTH_TYPE", message: "Unsupported authorization scheme")
    /// Malformed, forged, signed by an unknown key, for another issuer or audience, or not an access token.
    public static let invalidToken = AuthClientError(statusCode: 401, code: "INVALID_TOKEN", message: "Invalid token")
    public static let tokenExpired = AuthClientError(statusCode: 401, code: "TOKEN_EXPIRED", message: "Token expired")
    /// The session was revoked (logout, password change, admin) or its tenant deleted or disabled.
    public static let sessionNotFound = AuthClientError(statusCode: 401, code: "SESSION_NOT_FOUND", message: "Session not found")
    /// A token issued before the second factor was verified.
    public static let mfaRequired = AuthClientError(statusCode: 401, code: "MFA_REQUIRED", message: "Multi-factor verification required")
    public static let noRolesAssigned = AuthClientError(statusCode: 403, code: "NO_ROLES_ASSIGNED", message: "No roles assigned")
    /// The keys or the revocation list cannot be read: refusing is the safe answer, for a moment.
    public static let unavailable = AuthClientError(
        statusCode: 503, code: "SERVICE_UNAVAILABLE", message: "Service temporarily unavailable; try again shortly", retryAfter: 1)

    public static func missingRoles(_ missing: [String]) -> AuthClientError {
        AuthClientError(statusCode: 403, code: "MISSING_REQUIRED_ROLES", message: "Missing required roles: \(missing.joined(separator: ", "))")
    }

    public static func missingPermissions(_ missing: [String]) -> AuthClientError {
        AuthClientError(
            statusCode: 403, code: "MISSING_REQUIRED_PERMISSIONS", message: "Missing required permissions: \(missing.joined(separator: ", "))")
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public var description: String { "AuthClientError(\(statusCode) \(code): \(message))" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(Envelope(statusCode: statusCode, code: code, message: message))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if statusCode == 401 { headers[.wwwAuthenticate] = #"Bearer realm="authd""# }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// authd's error body.
private struct Envelope: Encodable {
    var statusCode: Int
    var code: String
    var message: String
}
