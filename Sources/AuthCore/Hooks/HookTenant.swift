/// The tenant a hook runs for, where the hook's signature does not name it (`beforeSignup`,
/// `guards.beforeAuth`, the session notifications): flows set it around those calls, so HTTP
/// hooks bound per tenant (`AUTH_HTTP_HOOKS` `tenants`) pick their endpoint, and Swift hooks
/// may read it too.
public enum HookTenant {
    @TaskLocal public static var current: Tenant?
}
