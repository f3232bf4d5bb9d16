import AuthCore
import HTTPTypes
import Hummingbird

/// Gives every request a `request_id`: the caller's `x-request-id` when it is a plausible one (a
/// proxy's), else Hummingbird's own. It is bound for the request (`LogMetadata`) — every line
/// logged for it, flows and hooks included, carries it — and goes back in the answer.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headerName: HTTPField.Name { HTTPField.Name("x-request-id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = request.headers[Self.headerName].flatMap(Self.acceptable) ?? context.id
        var response = try await LogMetadata.$requestID.withValue(id) { try await next(request, context) }
        response.headers[Self.headerName] = id
        return response
    }

    /// At most 128 characters of letters, digits and `-_.:` (it ends up in logs and headers).
    static func acceptable(_ id: String) -> String? {
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E || c == 0x3A
        }) else { return nil }
        return id
    }
}
