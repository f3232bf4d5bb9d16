import AuthCrypto
import Crypto

/// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`,
/// `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>`.
/// Used wherever authd calls the operator's endpoints (event webhooks, HTTP login providers).
public enum StandardWebhooks {
    /// A secret: `whsec_` + base64 of at least 24 random bytes.
    public struct Secret: Sendable {
        let key: SymmetricKey

        /// Nil for a malformed or short secret.
        public init?(_ text: String) {
            let body = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
            guard let bytes = Base64.decode(body), bytes.count >= 24 else { return nil }
            key = SymmetricKey(data: bytes)
        }
    }

    /// The signature header value for a message.
    public static func signature(id: String, timestamp: Int, body: String, secret: Secret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).\(body)".utf8), using: secret.key)
        return "v1," + Base64.encode(Array(mac))
    }

    /// The three headers of a signed message.
    public static func headers(id: String, timestamp: Int, body: String, secret: Secret) -> [(String, String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature(id: id, timestamp: timestamp, body: body, secret: secret))]
    }
}
