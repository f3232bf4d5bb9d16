import AuthCore
import Hummingbird

/// Reading a JSON request body as API.md promises, refusing before anything else runs:
/// - a body that is not declared `application/json` (or `application/…+json`) → 415
///   `UNSUPPORTED_MEDIA_TYPE` — a browser form (`text/plain`, urlencoded, multipart) can be sent
///   cross-site without a preflight; JSON cannot, so requiring it closes that door;
/// - larger than the context allows → 413 `PAYLOAD_TOO_LARGE`;
/// - invalid UTF-8 → 400 `INVALID_INPUT` (bad bytes are refused, never replaced: two different
///   passwords must not become one);
/// - malformed JSON, not an object, or a NUL anywhere (keys included: PostgreSQL cannot store
///   it) → 400 `INVALID_INPUT` naming where.
/// An empty body with no content type is an empty object (`curl -X POST` with no data).
enum RequestBody {
    static func json(_ request: Request, context: some RequestContext) async throws -> JSONObject {
        let contentType = request.headers[.contentType]
        if let contentType, !isJSON(contentType) { throw AuthError(.unsupportedMediaType) }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw AuthError(.payloadTooLarge)
        }
        if buffer.readableBytes == 0 { return [:] }
        guard contentType != nil else { throw AuthError(.unsupportedMediaType) }
        let bytes = Array(buffer.readableBytesView)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw AuthError.invalidInput("body", "is not valid UTF-8") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: bytes)
        } catch {
            throw AuthError.invalidInput("body", "malformed JSON")
        }
        guard case .object(let object) = value else { throw AuthError.invalidInput("body", "must be a JSON object") }
        if let path = nulPath(.object(object), at: "") { throw AuthError.invalidInput(path.isEmpty ? "body" : path, "must not contain NUL characters") }
        return object
    }

    /// `application/json` or `application/<anything>+json`, parameters (charset) allowed.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    /// Where the first NUL is (`credentials.email`, `items[2]`), or nil.
    static func nulPath(_ value: JSONValue, at path: String) -> String? {
        switch value {
        case .string(let s): return s.utf8.contains(0) ? path : nil
        case .array(let items):
            for (i, item) in items.enumerated() { if let p = nulPath(item, at: "\(path)[\(i)]") { return p } }
            return nil
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let p = path.isEmpty ? key : "\(path).\(key)"
                if key.utf8.contains(0) { return path.isEmpty ? "body" : path }
                if let found = nulPath(member, at: p) { return found }
            }
            return nil
        case .null, .bool, .int, .double: return nil
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
