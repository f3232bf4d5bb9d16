#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A way of logging in besides a password or a one-time code (nest-auth's `customAuthProviders`
/// and its social providers): it proves who the caller is from the credentials of
/// `POST /auth/login {providerName, credentials}` and answers with the external identity;
/// authd then finds, links or creates the user (`ExternalLoginFlow`). Implementations run with
/// no database connection or transaction held, so they may call other services.
///
/// An embedder adds one through `AuthRuntime.Configuration.providers`; a deployment that cannot
/// recompile binds a signed HTTP provider by configuration (`AUTH_PROVIDERS`, kind `http`).
public protocol AuthProvider: Sendable {
    /// The `providerName` that selects it; also the `provider` of the identities it makes.
    var name: String { get }
    /// Keys that must be present (non-empty) in `credentials`, else 400 `MISSING_REQUIRED_FIELDS`.
    var requiredFields: [String] { get }
    /// A login through it is complete without a second factor (nest-auth's `skipMfa`).
    var skipMFA: Bool { get }
    /// What `GET /auth/client-config` shows of it (kind, public client id); never a secret.
    var clientConfig: JSONObject { get }

    /// Proves the caller from `credentials` (already checked for `requiredFields`). Throws
    /// `AuthError` 401 `INVALID_CREDENTIALS` for a refused proof, 503 when the provider could
    /// not be asked.
    func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity
}

extension AuthProvider {
    public var requiredFields: [String] { [] }
    public var skipMFA: Bool { false }
    public var clientConfig: JSONObject { [:] }
}

/// What a provider may know of the request it validates.
public struct ProviderContext: Sendable {
    /// The tenant the login is for.
    public var tenant: Tenant
    public var request: AuthRequest
    /// This process's clock (token expiry checks of providers' tokens).
    public var now: Date

    public init(tenant: Tenant, request: AuthRequest, now: Date) {
        self.tenant = tenant
        self.request = request
        self.now = now
    }
}

/// Who a provider says the caller is.
public struct ExternalIdentity: Sendable, Equatable {
    /// The provider's stable id of the user (`sub`, GitHub's numeric id); unique per provider.
    public var subject: String
    /// The address the provider knows, normalised by authd before use.
    public var email: String?
    /// The provider vouches that the caller controls `email`. Only then may the identity be
    /// linked to an existing account or create one (`SOCIAL_EMAIL_NOT_VERIFIED` otherwise).
    public var emailVerified: Bool
    /// A user id the provider names directly (a custom provider backed by the operator's own
    /// directory): the identity links to that user of the tenant, if it exists.
    public var userID: UUID?
    /// Profile fields kept on the identity row (name, picture, login): never a token.
    public var profile: JSONObject

    public init(subject: String, email: String? = nil, emailVerified: Bool = false, userID: UUID? = nil, profile: JSONObject = [:]) {
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.userID = userID
        self.profile = profile
    }
}

extension ExternalIdentity {
    /// What authd keeps of a provider's answer: a subject without control characters (else the
    /// login is refused), an address only when it is plausible, and at most 16 profile fields of
    /// short text (a provider's answer is not ours to store whole, and a NUL would not even fit
    /// in PostgreSQL's jsonb).
    func sanitized(provider: String) throws -> ExternalIdentity {
        guard !subject.isEmpty, subject.utf8.count <= 255, !TextInput.hasControlCharacters(subject) else {
            throw AuthError(.invalidCredentials, cause: ProviderRefusal(provider: provider, reason: "unusable subject"))
        }
        var out = self
        out.email = email.flatMap { TextInput.hasControlCharacters($0) ? nil : Identifier.email($0) }
        var profile: JSONObject = [:]
        for key in self.profile.keys.sorted().prefix(16) where key.utf8.count <= 64 && !TextInput.hasControlCharacters(key) {
            if case .string(let text)? = self.profile[key], text.utf8.count <= 1024, !TextInput.hasControlCharacters(text) {
                profile[key] = .string(text)
            }
        }
        out.profile = profile
        return out
    }
}
