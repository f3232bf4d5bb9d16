import AuthCore
import Hummingbird

/// JSON answers.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        // Answers carry tokens and user data: never cached, unless the route says otherwise (JWKS).
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(value.jsonText.utf8))))
    }

    /// `{"message": …}`.
    static func message(_ text: String, headers: HTTPFields = [:]) -> Response {
        make(.object(["message": .string(text)]), headers: headers)
    }
}
