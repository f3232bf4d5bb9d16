import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// Reading request bodies and writing JSON answers. Bodies are parsed into `JSONValue` first,
/// so malformed JSON and wrong types become 400 `INVALID_INPUT` naming the field, never a 500.
enum JSONBody {
    /// The body as a JSON object (an empty body is an empty object).
    static func object(_ request: Request, context: some RequestContext) async throws -> JSONObject {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw AuthError(.payloadTooLarge)
        }
        if buffer.readableBytes == 0 { return [:] }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: Array(buffer.readableBytesView))
        } catch {
            throw AuthError.invalidInput("body", "malformed JSON")
        }
        guard case .object(let object) = value else { throw AuthError.invalidInput("body", "must be a JSON object") }
        return object
    }

    /// An optional string field; 400 when present with another type.
    static func string(_ object: JSONObject, _ field: String, maxLength: Int = 1024) throws -> String? {
        guard let value = object[field], value != .null else { return nil }
        guard case .string(let s) = value else { throw AuthError.invalidInput(field, "must be a string") }
        guard s.utf8.count <= maxLength else { throw AuthError.invalidInput(field, "too long") }
        return s
    }

    /// An optional object field.
    static func object(_ object: JSONObject, _ field: String) throws -> JSONObject? {
        guard let value = object[field], value != .null else { return nil }
        guard case .object(let o) = value else { throw AuthError.invalidInput(field, "must be an object") }
        return o
    }

    /// A JSON response.
    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data = Array(value.jsonText.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        // Answers carry tokens and user data: never cached, unless the route says otherwise (JWKS).
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
