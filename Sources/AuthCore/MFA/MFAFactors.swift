#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import Crypto
import PGKit

/// What the MFA flows share: which methods a user can pass, TOTP secrets sealed at rest and
/// checked without replay, recovery codes and trusted-device tokens made and recognised.
struct MFAFactors: Sendable {
    let env: AuthEnvironment
    let store = MFAStore()

    static let secretPurpose = "authd totp secret v1"
    static let trustCookie = "authd_device_trust"
    static let trustHeader = "x-device-trust"

    /// The methods `user` can pass now: TOTP with a verified device; e-mail or SMS with a verified
    /// address — each only if the deployment allows it. Offered TOTP first.
    func methods(of user: User, devices: [MFAStore.Device]) -> [MFAMethod] {
        var out: [MFAMethod] = []
        let allowed = env.settings.mfa.methods
        if allowed.contains(.totp), devices.contains(where: \.verified) { out.append(.totp) }
        if allowed.contains(.email), user.email != nil, user.emailVerifiedAt != nil { out.append(.email) }
        if allowed.contains(.sms), user.phone != nil, user.phoneVerifiedAt != nil { out.append(.sms) }
        return out.sorted()
    }

    /// Whether a login of `user` must pass a second factor.
    func required(for user: User) -> Bool { env.settings.mfa.enabled && user.isMfaEnabled }

    // MARK: TOTP

    func seal(_ secret: [UInt8], deviceID: UUID) throws -> [UInt8] {
        try env.outbox.sealerOrThrow().seal(secret, purpose: Self.secretPurpose, associatedData: Array(deviceID.uuidString.lowercased().utf8))
    }

    func open(_ device: MFAStore.Device) throws -> [UInt8] {
        try env.outbox.sealerOrThrow().open(device.sealedSecret, purpose: Self.secretPurpose, associatedData: Array(device.id.uuidString.lowercased().utf8))
    }

    /// Checks a TOTP code (±1 step) against `devices` (locked by the caller); a code of a step
    /// already used on that device is refused (no replay). On success stamps the step (and
    /// verifies the device when `verifying`); returns the device it matched.
    func checkTOTP(_ code: String, devices: [MFAStore.Device], verifying: Bool, tx: PGTransaction) async throws -> MFAStore.Device? {
        let code = code.filter { !$0.isWhitespace }
        guard code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return nil }
        let now = TOTP.step(at: Int64(env.now().timeIntervalSince1970))
        for device in devices where device.verified != verifying {
            guard let step = TOTP(secret: try open(device)).matchingStep(code, around: now), step > (device.lastStep ?? Int64.min) else { continue }
            try await store.usedStep(deviceID: device.id, step: step, verify: verifying, on: tx)
            return device
        }
        return nil
    }

    // MARK: recovery codes

    /// A new set: `recoveryCodeCount` codes of 12 characters from a 31-letter alphabet (~59
    /// bits each), shown as `XXXX-XXXX-XXXX`.
    func newRecoveryCodes() throws -> [String] {
        try (0..<max(10, env.settings.mfa.recoveryCodeCount)).map { _ in
            let raw = Array(try OneTimeCodeAlphabet.alphanumeric.generate(length: 12))
            return [raw[0..<4], raw[4..<8], raw[8..<12]].map { String($0) }.joined(separator: "-")
        }
    }

    /// What a recovery code is stored as: `<key id>:<keyed HMAC>` under the keyring's current
    /// key (dashes, spaces and case ignored). The key id lets codes made before a rotation of
    /// AUTH_SECRET_KEY keep working while their key stays in the ring.
    func recoveryHMAC(_ code: String, user: UUID, tenant: Tenant) -> String {
        Self.recoveryHMAC(code, user: user, tenant: tenant, key: env.tokens.keyring.current)
    }

    /// What a presented code could be stored as, one per key of the ring.
    func recoveryCandidates(_ code: String, user: UUID, tenant: Tenant) -> [String] {
        env.tokens.keyring.keys.map { Self.recoveryHMAC(code, user: user, tenant: tenant, key: $0) }
    }

    private static func recoveryHMAC(_ code: String, user: UUID, tenant: Tenant, key: Keyring.Key) -> String {
        let normalised = code.uppercased().filter { $0 != "-" && !$0.isWhitespace }
        let digest = KeyedDigest(key: key, purpose: "recovery codes")
        return key.id + ":" + digest.hex([tenant.id.uuidString.lowercased(), user.uuidString.lowercased(), normalised])
    }

    // MARK: trusted devices

    /// A fresh trusted-device token and the digest stored for it.
    static func newTrustToken() throws -> (token: String, digest: [UInt8]) {
        let token = "dt1." + Base64URL.encode(try SecureRandom.bytes(32))
        return (token, digest(token))
    }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The trust token a login request carries (header `x-device-trust`, else cookie `authd_device_trust`).
    static func trustToken(in request: AuthRequest) -> String? {
        if let header = request.headers[trustHeader], !header.isEmpty { return header }
        guard let cookies = request.headers["cookie"] else { return nil }
        for pair in cookies.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == trustCookie { return String(kv[1]) }
        }
        return nil
    }
}
