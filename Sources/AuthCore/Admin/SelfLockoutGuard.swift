import PGKit

/// Keeps a tenant admin from taking `auth.admin` away from themselves: their tenant would be
/// left to a platform admin to recover. A user's own account has its checks in `AdminUserFlow`;
/// this one is for changes that reach the caller through a role they hold (a role's
/// permissions, its deactivation, its deletion).
enum SelfLockoutGuard {
    /// Runs `change` in `tx`; 409 `ADMIN_SELF_LOCKOUT` (the transaction rolls back) when the
    /// caller's stored roles granted `auth.admin` before it and do not after. A platform admin
    /// (no caller account) is not checked.
    static func keepingOwnAdmin<T>(
        _ scope: AdminScope, roles: RoleStore, tx: PGTransaction, _ change: () async throws -> T
    ) async throws -> T {
        guard let caller = scope.callerID else { return try await change() }
        let before = try await roles.rolesAndPermissions(userID: caller, on: tx).permissions.contains(Permission.admin)
        let result = try await change()
        if before, try await !roles.rolesAndPermissions(userID: caller, on: tx).permissions.contains(Permission.admin) {
            throw AuthError(.adminSelfLockout)
        }
        return result
    }
}
