import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1

/// The outbound HTTP calls of identity providers (JWKS, token exchanges, user APIs): a timeout
/// on every call, a cap on what is read, and one mapping of failures — a provider that cannot be
/// reached or answers 5xx is 503 `PROVIDER_UNAVAILABLE` with `Retry-After`, never a 500 and never
/// a refused login. No caller holds a database connection while it runs.
public struct ProviderHTTP: Sendable {
    /// A decoded answer.
    public struct Reply: Sendable {
        public var status: Int
        /// The body as JSON; `null` when it is empty or not JSON (see `isEmpty`).
        public var body: JSONValue
        /// The body had no bytes at all.
        public var isEmpty: Bool = false
    }

    let client: HTTPClient
    let timeout: Duration
    static let maxBodyBytes = 256 * 1024

    public init(client: HTTPClient = .shared, timeout: Duration = .seconds(5)) {
        self.client = client
        self.timeout = timeout
    }

    /// GET `url`; the answer's JSON (a non-JSON body reads as `null`).
    public func get(_ url: String, headers: [(String, String)] = []) async throws -> Reply {
        try await send(url, method: .GET, headers: headers, body: nil)
    }

    /// POST `body` (already encoded) with its content type.
    public func post(_ url: String, contentType: String, body: String, headers: [(String, String)] = []) async throws -> Reply {
        try await send(url, method: .POST, headers: headers + [("content-type", contentType)], body: body)
    }

    private func send(_ url: String, method: HTTPMethod, headers: [(String, String)], body: String?) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "authd")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let status: Int
        let bytes: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.timeInterval * 1e9)))
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw AuthError(.providerUnavailable, message: "The identity provider could not be reached", retryAfter: 5, cause: error)
        }
        if status >= 500 || status == 429 {
            throw AuthError(.providerUnavailable, message: "The identity provider is unavailable (\(status))", retryAfter: 5)
        }
        let json = (try? JSONValue.parse(bytes: Array(buffer: bytes))) ?? .null
        return Reply(status: status, body: json, isEmpty: bytes.readableBytes == 0)
    }

    /// `application/x-www-form-urlencoded` of `fields`.
    public static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
