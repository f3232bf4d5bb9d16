import Crypto

/// RFC 6238 time-based one-time passwords: HMAC-SHA-1 over the 30-second step counter, dynamic
/// truncation (RFC 4226 §5.3), 6 digits — what every authenticator app computes.
public struct TOTP: Sendable {
    public static let period: Int64 = 30
    public let secret: [UInt8]
    public let digits: Int

    public init(secret: [UInt8], digits: Int = 6) {
        self.secret = secret
        self.digits = digits
    }

    /// A fresh 160-bit secret (RFC 4226's recommended length).
    public static func newSecret() throws -> [UInt8] { try SecureRandom.bytes(20) }

    /// The step a Unix time falls in.
    public static func step(at unixSeconds: Int64) -> Int64 { unixSeconds / period }

    /// The code of one step.
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The step within `window` steps of `step` whose code is `code` (compared in constant
    /// time), nil for none. Later steps are tried first.
    public func matchingStep(_ code: String, around step: Int64, window: Int64 = 1) -> Int64? {
        var found: Int64?
        for candidate in (step - window)...(step + window) where ConstantTime.equals(self.code(step: candidate), code) {
            found = candidate
        }
        return found
    }

    /// `otpauth://totp/Issuer:account?secret=…&issuer=…` for authenticator apps (and QR codes).
    public static func provisioningURL(secret: [UInt8], issuer: String, account: String) -> String {
        func escape(_ s: String) -> String {
            var out = ""
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "@"):
                    out.append(Character(UnicodeScalar(byte)))
                default:
                    out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
                }
            }
            return out
        }
        return "otpauth://totp/\(escape(issuer)):\(escape(account))?secret=\(Base32.encode(secret))&issuer=\(escape(issuer))&algorithm=SHA1&digits=6&period=30"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
