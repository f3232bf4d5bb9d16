import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// The error body of every failed request (API.md): `{statusCode, code, message}`.
public struct ErrorEnvelope: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var code: String
    public var message: String

    public init(statusCode: Int, code: String, message: String) {
        self.statusCode = statusCode
        self.code = code
        self.message = message
    }

    /// Seconds to wait before retrying (`Retry-After`; not part of the body).
    public var retryAfter: Int?

    public init(_ error: AuthError) {
        self.init(statusCode: error.status, code: error.code, message: error.message)
        retryAfter = error.retryAfter
    }

    private enum CodingKeys: String, CodingKey {
        case statusCode, code, message
    }

    /// The envelope as a JSON response with its status.
    public func response() -> Response {
        // Sorted keys: failures that must be indistinguishable are byte-identical.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data(#"{"statusCode":500,"code":"INTERNAL_ERROR","message":"Internal error"}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: HTTPResponse.Status(code: statusCode), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
