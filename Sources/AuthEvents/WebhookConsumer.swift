import AsyncHTTPClient
import AuthCore
import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// `authd listen --consumer webhook:GROUP=URL`: POSTs each event envelope to a URL, signed as
/// Standard Webhooks define it (`webhook-id`, `webhook-timestamp`, `webhook-signature:
/// v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>`). A non-2xx answer or a timeout fails
/// the delivery, which the consumer group retries with backoff and dead-letters after N tries.
public struct WebhookConsumer: Sendable {
    /// A Standard Webhooks secret: `whsec_` + base64 of at least 24 random bytes.
    public struct Secret: Sendable {
        let standard: StandardWebhooks.Secret

        public init(_ text: String) throws {
            guard let standard = StandardWebhooks.Secret(text) else { throw WebhookError.invalidSecret }
            self.standard = standard
        }
    }

    public enum WebhookError: Error, CustomStringConvertible {
        case invalidSecret
        case rejected(status: Int)
        case noKeyringForSecret

        public var description: String {
            switch self {
            case .invalidSecret: "webhook secret must be whsec_ + base64 of at least 24 bytes"
            case .rejected(let status): "endpoint answered \(status)"
            case .noKeyringForSecret: "the event carries a one-time secret and authd listen has no AUTH_SECRET_KEY to open it"
            }
        }
    }

    let url: String
    let secret: Secret
    let client: HTTPClient
    let timeout: Duration
    /// Opens events' one-time secrets so the endpoint (an e-mail/SMS sender) receives them as
    /// `oneTimeSecret`, inside the signed body; nil: they are left out.
    let sealer: SecretSealer?

    public init(url: String, secret: Secret, client: HTTPClient, timeout: Duration = .seconds(10), sealer: SecretSealer? = nil) {
        self.url = url
        self.secret = secret
        self.client = client
        self.timeout = timeout
        self.sealer = sealer
    }

    /// The signature header value for a message.
    public static func signature(id: String, timestamp: Int, body: String, secret: Secret) -> String {
        StandardWebhooks.signature(id: id, timestamp: timestamp, body: body, secret: secret.standard)
    }

    public func handler() -> EventConsumer.Handler {
        { event in try await deliver(event) }
    }

    func deliver(_ event: EventEnvelope) async throws {
        var payload = event.json
        if event.sealedSecret != nil {
            // A code the endpoint exists to deliver: without the keyring, fail (retry, then dead
            // letter, visible in `authd events status`) rather than send it without the code.
            guard let sealer else { throw WebhookError.noKeyringForSecret }
            if let clear = try event.secret(sealer) { payload["oneTimeSecret"] = .string(clear) }
        }
        let body = JSONValue.object(payload).jsonText
        let id = event.id.uuidString.lowercased()
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: Self.signature(id: id, timestamp: timestamp, body: body, secret: secret))
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.timeInterval * 1e9)))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(Int(response.status.code)) else { throw WebhookError.rejected(status: Int(response.status.code)) }
    }
}
