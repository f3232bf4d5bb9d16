/// What a one-time code is for: a code made for one purpose never verifies for another.
public enum OneTimeCodePurpose: String, Sendable, CaseIterable {
    case emailVerification = "email_verification"
    case phoneVerification = "phone_verification"
    case passwordReset = "password_reset"
    case passwordless
    case mfa
}

/// Where a code is delivered (by the application, from the event that carries it).
public enum OneTimeCodeChannel: String, Sendable, CaseIterable {
    case email
    case sms
}
