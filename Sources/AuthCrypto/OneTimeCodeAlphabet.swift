/// The characters one-time codes are made of, and how to draw a code from them.
public enum OneTimeCodeAlphabet: String, Sendable, CaseIterable {
    /// Digits 0–9 (leading zeros possible): 6 of them are ~20 bits (ASVS 6.5.4's minimum).
    case numeric
    /// Upper-case letters and digits without the look-alikes 0/O, 1/I/L (nest-auth's alphabet):
    /// ~4.95 bits a character.
    case alphanumeric

    public var characters: [Character] {
        switch self {
        case .numeric: Array("0123456789")
        case .alphanumeric: Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
        }
    }

    /// A code of `length` characters drawn uniformly from the CSPRNG (rejection sampling: no
    /// modulo bias).
    public func generate(length: Int) throws -> String {
        let chars = characters
        let limit = UInt8(256 - 256 % chars.count)
        var out = ""
        while out.count < length {
            for byte in try SecureRandom.bytes(length * 2) where byte < limit && out.count < length {
                out.append(chars[Int(byte) % chars.count])
            }
        }
        return out
    }

    /// Whether `code` could be one of this alphabet's codes of `length` (checked before any
    /// lookup; the comparison itself is of HMACs).
    public func accepts(_ code: String, length: Int) -> Bool {
        code.count == length && code.allSatisfy(characters.contains)
    }
}
