#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Keeps a tenant admin from taking `auth.admin` away from themselves: their tenant would be
/// left to a platform admin to recover. Both ways it could go: new roles for their own account,
/// and a change to a role they hold (its permissions, its deactivation, its deletion). (Deleting
/// or deactivating their own account is refused in `AdminUserFlow`, before any work.)
enum SelfLockoutGuard {
    /// 409 `ADMIN_SELF_LOCKOUT` when the caller gives their own account roles that grant
    /// `granted`, without `auth.admin`, while their stored roles grant it now. Checked before
    /// the change, so the lifecycle's hooks never run for it.
    static func refuseOwnRolesWithoutAdmin(
        _ scope: AdminScope, userID: UUID, granting granted: [String], roles: RoleStore, tx: PGTransaction
    ) async throws {
        guard scope.callerID == userID, !granted.contains(Permission.admin) else { return }
        if try await roles.rolesAndPermissions(userID: userID, on: tx).permissions.contains(Permission.admin) {
            throw AuthError(.adminSelfLockout)
        }
    }

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
