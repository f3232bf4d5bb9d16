/// Password rules after NIST SP 800-63B-4: a minimum length, a generous maximum, no composition
/// rules, and a deny list — common passwords, trivial patterns (repeats, sequences, keyboard
/// runs) and the account's own context (its e-mail's local part, its phone number, the tenant's
/// name). Passwords are checked exactly as typed: no trimming, truncation or case folding
/// (folding is only how the deny list compares).
public struct PasswordPolicy: Sendable {
    public var minLength: Int
    public var maxLength: Int

    /// Context words shorter than this are not looked for inside passwords (too many false hits).
    static let minimumContextLength = 4

    public init(minLength: Int = 8, maxLength: Int = 256) {
        self.minLength = minLength
        self.maxLength = maxLength
    }

    /// Throws 400 `PASSWORD_TOO_SHORT` / `PASSWORD_TOO_LONG` / `PASSWORD_TOO_COMMON` /
    /// `PASSWORD_CONTAINS_IDENTIFIER` / `INVALID_INPUT` (control characters). `context` holds words
    /// the password must not contain (case-insensitive, each of ≥ 4 characters).
    public func check(_ password: String, context: [String] = []) throws {
        // Count user-perceived characters, as a person typing would.
        let length = password.count
        if length < minLength {
            throw AuthError(.passwordTooShort, message: "Password must be at least \(minLength) characters")
        }
        if length > maxLength {
            throw AuthError(.passwordTooLong, message: "Password must be at most \(maxLength) characters")
        }
        if TextInput.hasControlCharacters(password) {
            throw AuthError.invalidInput("password", "must not contain control characters")
        }
        let folded = password.lowercased()
        if CommonPasswords.contains(folded) || Self.isTrivialPattern(folded) {
            throw AuthError(.passwordTooCommon)
        }
        for word in context where word.count >= Self.minimumContextLength && folded.contains(word.lowercased()) {
            throw AuthError(.passwordContainsIdentifier)
        }
    }

    /// Orders a trivial password walks through: each character followed by the next ("9" wraps
    /// to "0": `123456789012345`), and the rows of a QWERTY keyboard.
    static let runs = ["01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm"].map { Array($0) }

    /// True for one character repeated, a unit of up to four characters repeated (`abcabcabc`),
    /// or a walk in one direction along one of `runs` (`abcdefgh`, `987654321`, `qwertyuiop`).
    static func isTrivialPattern(_ folded: String) -> Bool {
        let chars = Array(folded)
        guard chars.count >= 2 else { return true }
        for unit in 1...4 where unit < chars.count {
            if (unit..<chars.count).allSatisfy({ chars[$0] == chars[$0 - unit] }) { return true }
        }
        func follows(_ a: Character, _ b: Character) -> Bool {
            runs.contains { run in (0..<(run.count - 1)).contains { run[$0] == a && run[$0 + 1] == b } }
        }
        let pairs = zip(chars, chars.dropFirst())
        return pairs.allSatisfy { follows($0, $1) } || pairs.allSatisfy { follows($1, $0) }
    }

    /// The words a password must not contain for an account: the e-mail's local part and the
    /// address, the phone number's digits, the tenant's slug and name.
    public static func contextWords(email: String?, phone: String?, tenant: Tenant) -> [String] {
        [email.map { String($0.prefix { $0 != "@" }) }, email, phone.map { String($0.dropFirst()) }, tenant.slug, tenant.name]
            .compactMap { $0 }
    }

    static func contextWords(user: User, tenant: Tenant) -> [String] {
        contextWords(email: user.email, phone: user.phone, tenant: tenant)
    }
}
