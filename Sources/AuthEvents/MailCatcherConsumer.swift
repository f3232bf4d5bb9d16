#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import AuthCore
import AuthCrypto
import Foundation

/// `authd listen --consumer mailcatcher` (development only, as a local mail catcher would): for
/// every event carrying a one-time code, one line on standard error with the recipient, the
/// purpose and the code itself, so a newcomer can verify an address or reset a password with
/// curl. It refuses to start outside `AUTH_ENV=development`: in production codes leave authd
/// only through the application's own delivery (a webhook, a consumer of its own).
public struct MailCatcherConsumer: Sendable {
    let sealer: SecretSealer

    public init(sealer: SecretSealer) {
        self.sealer = sealer
    }

    public func handler() -> EventConsumer.Handler {
        { [sealer] event in
            guard event.sealedSecret != nil, let code = try event.secret(sealer) else { return }
            let line = Self.line(event, code: code)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// `[mail] to ann@example.com (email): email_verification code 123456, expires …`.
    static func line(_ event: EventEnvelope, code: String) -> String {
        let recipient = event.data["recipient"]?.stringValue ?? "(recipient unknown)"
        let channel = event.data["channel"]?.stringValue ?? "?"
        let purpose = event.data["purpose"]?.stringValue ?? event.type
        let expires = event.data["expiresAt"]?.stringValue ?? "?"
        return "[mail] to \(recipient) (\(channel)): \(purpose) code \(code), expires \(expires) [\(event.type)]"
    }
}
