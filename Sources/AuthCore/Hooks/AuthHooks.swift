import AuthCrypto
import PGKit

/// Every hook authd calls, as typed closures on one value configured at start (DESIGN.md §4).
/// A hook left nil costs nothing. Phases:
/// - before the transaction, may reject: `beforeSignup`, `resolveConfig`, `guards.beforeAuth`;
/// - inside the flow's transaction, receiving its `tx`, throwing rolls everything back:
///   `user.beforeCreate/afterCreate/beforeUpdate/afterUpdate/beforeDelete/afterDelete`,
///   `onSignup`, `onLogin`, `guards.afterAuth` (at login);
/// - shaping, inside the transaction: `authorization.*`, `user.getSessionUserData`,
///   `session.customizeSessionData/customizeTokenPayload`, `transformResponse`;
/// - after COMMIT, fire-and-forget from a bounded queue: `session.onCreated/onRefreshed/onRevoked`.
public struct AuthHooks: Sendable {
    /// A guard's verdict: `reject` with an optional reason shown to the client.
    public struct GuardDecision: Sendable, Equatable {
        public var reject: Bool
        public var reason: String?
        public init(reject: Bool = false, reason: String? = nil) {
            self.reject = reject
            self.reason = reason
        }
        public static let allow = GuardDecision()
        public static func deny(_ reason: String) -> GuardDecision { GuardDecision(reject: true, reason: reason) }
    }

    /// Passed to `onSignup`.
    public struct SignupContext: Sendable {
        public let request: AuthRequest
        public let tenant: Tenant
        public let tx: PGTransaction
    }

    /// Passed to `onLogin`: `roles` are the roles stored for the user.
    public struct LoginContext: Sendable {
        public let request: AuthRequest
        public let tenant: Tenant
        public let roles: [String]
        public let tx: PGTransaction
    }

    /// Passed to `getSessionUserData` and the authorization hooks.
    public struct ShapingContext: Sendable {
        public let tenant: Tenant
        public let tx: PGTransaction
    }

    public struct Guards: Sendable {
        /// On every guarded request (and at the start of login), before the session lookup;
        /// a rejection answers 401 `ACCESS_DENIED`.
        public var beforeAuth: (@Sendable (AuthRequest) async throws -> GuardDecision)?
        /// After the user is resolved; a rejection answers 403 `ACCESS_DENIED`. At login it runs
        /// inside the transaction, so a rejection leaves no session and no event.
        public var afterAuth: (@Sendable (AuthRequest, User) async throws -> GuardDecision)?
        public init() {}
    }

    public struct UserHooks: Sendable {
        /// Last change to the new user's data before INSERT.
        public var beforeCreate: (@Sendable (NewUser, PGTransaction) async throws -> NewUser)?
        /// After INSERT, in the same transaction: write related rows through `tx`.
        public var afterCreate: (@Sendable (User, NewUser, PGTransaction) async throws -> Void)?
        /// Before UPDATE; may return changed changes.
        public var beforeUpdate: (@Sendable (User, UserChanges, PGTransaction) async throws -> UserChanges)?
        public var afterUpdate: (@Sendable (User, UserChanges, PGTransaction) async throws -> Void)?
        public var beforeDelete: (@Sendable (User, PGTransaction) async throws -> Void)?
        /// Receives a snapshot of the deleted user.
        public var afterDelete: (@Sendable (User, PGTransaction) async throws -> Void)?
        /// Shapes the session user (signup, login, refresh, `/auth/me`); the default is
        /// `{id, email, phone, emailVerifiedAt, phoneVerifiedAt, isMfaEnabled, roles, permissions, metadata, tenantId}`.
        public var getSessionUserData: (@Sendable (User, JSONObject, ShapingContext) async throws -> JSONObject)?
        /// Dotted paths never returned to clients (e.g. `metadata.internalNotes`).
        public var sensitiveFields: [String] = []
        public init() {}
    }

    public struct AuthorizationHooks: Sendable {
        /// Replaces the stored roles.
        public var resolveRoles: (@Sendable (User, ShapingContext) async throws -> [String])?
        /// Replaces the role → permission expansion.
        public var resolvePermissions: (@Sendable (User, [String], ShapingContext) async throws -> [String])?
        public init() {}
    }

    public struct SessionHooks: Sendable {
        public var customizeSessionData: (@Sendable (JSONObject, User) async throws -> JSONObject)?
        public var customizeTokenPayload: (@Sendable (JSONObject, Session) async throws -> JSONObject)?
        /// After commit, fire-and-forget.
        public var onCreated: (@Sendable (Session, User) async -> Void)?
        /// After commit, fire-and-forget.
        public var onRefreshed: (@Sendable (Session, Session) async -> Void)?
        /// After commit, fire-and-forget.
        public var onRevoked: (@Sendable (Session, String) async -> Void)?
        public init() {}
    }

    public struct OTPHooks: Sendable {
        /// Makes a one-time code of `length` in `alphabet` (default: the CSPRNG). Whatever it
        /// returns is stored only as an HMAC and delivered only inside the event.
        public var generate: (@Sendable (Int, OneTimeCodeAlphabet) async throws -> String)?
        public init() {}
    }

    public struct PasswordHooks: Sendable {
        public var hash: (@Sendable (String) async throws -> String)?
        public var verify: (@Sendable (String, String) async throws -> Bool)?
        public init() {}
    }

    /// Per-request overrides.
    public struct ConfigOverride: Sendable {
        public var accessTokenType: AuthSettings.TokenTransport?
        public init(accessTokenType: AuthSettings.TokenTransport? = nil) {
            self.accessTokenType = accessTokenType
        }
    }

    /// Pre-transaction: may return a changed payload, or throw to reject.
    public var beforeSignup: (@Sendable (SignupInput, AuthRequest) async throws -> SignupInput)?
    public var onSignup: (@Sendable (User, SignupInput, SignupContext) async throws -> Void)?
    /// Throwing blocks the login; an `AuthError` reaches the client as thrown.
    public var onLogin: (@Sendable (User, LoginContext) async throws -> Void)?
    public var resolveConfig: (@Sendable (AuthRequest) async throws -> ConfigOverride)?
    public var guards = Guards()
    public var user = UserHooks()
    public var authorization = AuthorizationHooks()
    public var session = SessionHooks()
    public var password = PasswordHooks()
    public var otp = OTPHooks()
    /// May replace the error returned to the client; `context` names the flow (`login`, `signup` …).
    public var errorHandler: (@Sendable (AuthError, String) -> AuthError)?
    /// Last reshaping of an AuthResponse; `context` names the flow.
    public var transformResponse: (@Sendable (AuthResponse, String) async throws -> AuthResponse)?

    public init() {}
}
