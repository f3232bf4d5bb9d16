import AuthCore
import Logging
import PGKit

/// The hooks of the two seed pages, as an example (`authd serve --example-hooks`):
/// - `onLogin` refuses accounts whose metadata marks them under review
///   (`{"underReview": true}`) with 403 `ACCOUNT_UNDER_REVIEW`, before any session exists;
/// - `user.afterCreate` writes an application profile row through the signup's own transaction,
///   so a failed signup never leaves an orphan profile (and a failed profile insert undoes the user).
enum SeedExampleHooks {
    static func make(logger: Logger) -> AuthHooks {
        var hooks = AuthHooks()
        hooks.onLogin = { user, _ in
            if user.metadata["underReview"]?.boolValue == true {
                throw AuthError.rejection(code: "ACCOUNT_UNDER_REVIEW", status: 403, message: "This account is under review")
            }
        }
        hooks.user.afterCreate = { user, _, tx in
            // An application's own table: a real app creates it with its own migration; the
            // example creates it on first use, inside the same transaction.
            try await tx.query(
                "CREATE TABLE IF NOT EXISTS app_profiles (auth_user_id uuid PRIMARY KEY, display_name text, created_at timestamptz NOT NULL DEFAULT now())")
            try await tx.query(
                "INSERT INTO app_profiles (auth_user_id, display_name) VALUES ($1, $2)", user.id,
                user.email.map { String($0.prefix { $0 != "@" }) })
        }
        hooks.session.onCreated = { session, user in
            logger.info("session created", metadata: ["session": "\(session.id)", "user": "\(user.id)"])
        }
        return hooks
    }
}
