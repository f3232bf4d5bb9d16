import Testing
@testable import AuthCore

/// Requirement 3 (and 1, 2): common passwords, trivial patterns and context words are refused;
/// long passphrases of any composition are accepted as typed.
@Suite struct PasswordPolicyTests {
    let policy = PasswordPolicy(minLength: 8)

    func code(_ password: String, context: [String] = []) -> String? {
        do {
            try policy.check(password, context: context)
            return nil
        } catch let error as AuthError {
            return error.code
        } catch {
            return "?"
        }
    }

    @Test(arguments: ["123456789012345", "abcdefghijklmnop", "9876543210987", "qwertyuiop", "aaaaaaaaaaaa", "abcabcabcabc", "12121212121", "zyxwvutsrq"])
    func trivialPatternsAreRefused(_ password: String) {
        #expect(code(password) == "PASSWORD_TOO_COMMON")
    }

    /// Before: refused only when the password *was* the context word.
    @Test func passwordsContainingContextWordsAreRefused() {
        let context = ["annabel", "annabel@example.com", "15551234567", "acme-eu", "Acme Widgets"]
        #expect(code("my annabel password", context: context) == "PASSWORD_CONTAINS_IDENTIFIER")
        #expect(code("ANNABEL-rocks-2026", context: context) == "PASSWORD_CONTAINS_IDENTIFIER")
        #expect(code("acme widgets forever", context: context) == "PASSWORD_CONTAINS_IDENTIFIER")
        #expect(code("call 15551234567 now", context: context) == "PASSWORD_CONTAINS_IDENTIFIER")
        // Words shorter than four characters are not looked for inside (too many false hits).
        #expect(code("bob's long passphrase", context: ["bob"]) == nil)
    }

    @Test func passphrasesOfAnyCompositionAreAccepted() {
        #expect(code("correct horse battery staple") == nil)
        #expect(code("ünïcödé pässwörd wïth späces") == nil)
        #expect(code("  leading and trailing spaces  ") == nil)
        #expect(code(String(repeating: "x", count: 7) + "y") == nil)  // 8 characters, not a pure repeat
    }

    @Test func lengthAndControlCharacters() {
        #expect(code("short") == "PASSWORD_TOO_SHORT")
        #expect(code(String(repeating: "ab1", count: 100)) == "PASSWORD_TOO_LONG")
        #expect(code("tab\tinside the password") == "INVALID_INPUT")
        #expect(code("nul\u{0}inside the password") == "INVALID_INPUT")
    }
}
