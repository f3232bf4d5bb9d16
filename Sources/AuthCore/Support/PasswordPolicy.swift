/// Password rules after NIST SP 800-63B-4: a minimum length, a generous maximum, no composition
/// rules, and a deny list (common passwords and the account's own context words). Passwords are
/// checked exactly as typed: no trimming, truncation or case folding.
public struct PasswordPolicy: Sendable {
    public var minLength: Int
    public var maxLength: Int

    public init(minLength: Int = 8, maxLength: Int = 256) {
        self.minLength = minLength
        self.maxLength = maxLength
    }

    /// Throws 400 `PASSWORD_TOO_SHORT` / `PASSWORD_TOO_LONG` / `PASSWORD_TOO_COMMON` /
    /// `PASSWORD_CONTAINS_IDENTIFIER`. `context` holds words the password must not be (e.g. the
    /// email's local part, the tenant name).
    public func check(_ password: String, context: [String] = []) throws {
        // Count user-perceived characters, as a person typing would.
        let length = password.count
        if length < minLength {
            throw AuthError(status: 400, code: "PASSWORD_TOO_SHORT", message: "Password must be at least \(minLength) characters")
        }
        if length > maxLength {
            throw AuthError(status: 400, code: "PASSWORD_TOO_LONG", message: "Password must be at most \(maxLength) characters")
        }
        let folded = password.lowercased()
        if CommonPasswords.contains(folded) {
            throw AuthError(status: 400, code: "PASSWORD_TOO_COMMON", message: "This password is too common; choose another")
        }
        for word in context where word.count >= 3 && folded == word.lowercased() {
            throw AuthError(
                status: 400, code: "PASSWORD_CONTAINS_IDENTIFIER",
                message: "Password must not be your email, username or the service name")
        }
    }
}
