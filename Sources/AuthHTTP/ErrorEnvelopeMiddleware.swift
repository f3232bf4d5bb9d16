import AuthCore
import Hummingbird
import Logging

/// Turns every error into the API.md envelope. `AuthError`s keep their status and code;
/// Hummingbird's own errors (unknown route, body too large, bad JSON) get a stable code for their
/// status; anything else is logged and answered with a generic 500 that reveals nothing.
public struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AuthError {
            // A 5xx is an outage (503: warning) or a fault (error): its cause, kept inside the
            // error, goes to the log — with the request's `request_id` and `tenant`.
            if error.status == 503 {
                context.logger.warning("request failed", metadata: ["error": "\(error)"])
            } else if error.status >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
            }
            return ErrorEnvelope(error).response()
        } catch let error as HTTPError {
            let status = Int(error.status.code)
            return ErrorEnvelope(
                statusCode: status, code: Self.code(forStatus: status),
                message: error.body ?? error.status.reasonPhrase
            ).response()
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return ErrorEnvelope(AuthError.internalError(error)).response()
        }
    }

    /// Every code `code(forStatus:)` gives (the OpenAPI document lists them beside the catalogue's).
    public static var httpLayerCodes: [String] { [400, 401, 403, 404, 405, 413, 415, 429, 500, 503].map(code(forStatus:)) }

    /// Stable codes for errors raised by the HTTP layer itself.
    static func code(forStatus status: Int) -> String {
        switch status {
        case 400: "INVALID_INPUT"
        case 401: "UNAUTHORIZED"
        case 403: "FORBIDDEN"
        case 404: "NOT_FOUND"
        case 405: "METHOD_NOT_ALLOWED"
        case 413: "PAYLOAD_TOO_LARGE"
        case 415: "UNSUPPORTED_MEDIA_TYPE"
        case 429: "RATE_LIMITED"
        case 503: "NOT_READY"
        case 500...: "INTERNAL_ERROR"
        default: "INVALID_INPUT"
        }
    }
}
