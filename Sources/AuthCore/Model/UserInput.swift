/// What a signup asks for. `profile` holds any other fields of the request body: hooks may use
/// them (e.g. copy some into `metadata`); authd stores none of them on its own, so a client can
/// never write metadata that hooks or admins rely on.
public struct SignupInput: Sendable {
    public var email: String?
    public var phone: String?
    public var password: String
    public var profile: JSONObject

    public init(email: String?, phone: String?, password: String, profile: JSONObject = [:]) {
        self.email = email
        self.phone = phone
        self.password = password
        self.profile = profile
    }
}

/// The row about to be inserted (what `user.beforeCreate` may change).
public struct NewUser: Sendable {
    public var email: String?
    public var phone: String?
    public var isActive: Bool
    public var metadata: JSONObject
    /// Role names to assign at creation.
    public var roles: [String]
    /// The address is known to be its owner's (an identity provider vouched for it).
    public var emailVerified: Bool

    public init(
        email: String?, phone: String?, isActive: Bool = true, metadata: JSONObject = [:], roles: [String] = [], emailVerified: Bool = false
    ) {
        self.emailVerified = emailVerified
        self.email = email
        self.phone = phone
        self.isActive = isActive
        self.metadata = metadata
        self.roles = roles
    }
}

/// A change to a user (what `user.beforeUpdate` may change); nil fields stay as they are.
public struct UserChanges: Sendable, Equatable {
    public var email: String??
    public var phone: String??
    public var isActive: Bool?
    public var isMfaEnabled: Bool?
    public var metadata: JSONObject?
    /// True: verified now; false: not verified. Nil: unchanged — unless the address itself
    /// changes, which leaves the new one unverified.
    public var emailVerified: Bool?
    public var phoneVerified: Bool?

    public init(
        email: String?? = nil, phone: String?? = nil, isActive: Bool? = nil, isMfaEnabled: Bool? = nil, metadata: JSONObject? = nil,
        emailVerified: Bool? = nil, phoneVerified: Bool? = nil
    ) {
        self.email = email
        self.phone = phone
        self.isActive = isActive
        self.isMfaEnabled = isMfaEnabled
        self.metadata = metadata
        self.emailVerified = emailVerified
        self.phoneVerified = phoneVerified
    }

    public var isEmpty: Bool {
        email == nil && phone == nil && isActive == nil && isMfaEnabled == nil && metadata == nil && emailVerified == nil
            && phoneVerified == nil
    }
}

/// Normalises identifiers the way lookups compare them.
public enum Identifier {
    /// The normalised e-mail and phone a request gave (empty strings count as absent): 400
    /// `INVALID_EMAIL_FORMAT` / `INVALID_PHONE_FORMAT` for one that is not plausible,
    /// `EMAIL_OR_PHONE_REQUIRED` when neither is there.
    public static func parse(email rawEmail: String?, phone rawPhone: String?) throws -> (email: String?, phone: String?) {
        let email = try rawEmail.flatMap { raw -> String? in
            guard !raw.isEmpty else { return nil }
            guard let e = Identifier.email(raw) else { throw AuthError(.invalidEmailFormat) }
            return e
        }
        let phone = try rawPhone.flatMap { raw -> String? in
            guard !raw.isEmpty else { return nil }
            guard let p = Identifier.phone(raw) else { throw AuthError(.invalidPhoneFormat) }
            return p
        }
        guard email != nil || phone != nil else { throw AuthError.emailOrPhoneRequired }
        return (email, phone)
    }

    /// Trimmed and lower-cased; nil when it is not a plausible address.
    public static func email(_ raw: String) -> String? {
        let e = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard e.utf8.count <= 254, let at = e.firstIndex(of: "@"), at != e.startIndex,
              e[e.index(after: at)...].contains("."), !e.hasSuffix("."),
              !e.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }),
              e.filter({ $0 == "@" }).count == 1
        else { return nil }
        return e
    }

    /// E.164-ish: `+` and 7–15 digits, spaces and dashes dropped; nil otherwise.
    public static func phone(_ raw: String) -> String? {
        let p = raw.filter { !$0.isWhitespace && $0 != "-" && $0 != "(" && $0 != ")" }
        guard p.hasPrefix("+"), (8...16).contains(p.count), p.dropFirst().allSatisfy(\.isASCII), p.dropFirst().allSatisfy(\.isNumber)
        else { return nil }
        return p
    }
}
