#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The admin API's view of a tenant's users: a filtered, paged list with its total.
public struct UserDirectoryStore: Sendable {
    public init() {}

    /// What the list may be filtered by.
    public struct Filter: Sendable {
        /// A case-insensitive substring of the e-mail, or of the phone number.
        public var search: String?
        /// `active`, `inactive`, `verified` or `unverified`.
        public var status: String?
        /// A role reference the users must hold.
        public var role: String?

        public init(search: String? = nil, status: String? = nil, role: String? = nil) {
            self.search = search
            self.status = status
            self.role = role
        }
    }

    private static let whereClause = """
        ($1::text IS NULL OR strpos(lower(coalesce(email, '')), lower($1)) > 0 OR strpos(coalesce(phone, ''), $1) > 0)
        AND ($2::text IS NULL
             OR ($2 = 'active' AND is_active) OR ($2 = 'inactive' AND NOT is_active)
             OR ($2 = 'verified' AND (email_verified_at IS NOT NULL OR phone_verified_at IS NOT NULL))
             OR ($2 = 'unverified' AND email_verified_at IS NULL AND phone_verified_at IS NULL))
        AND ($3::text IS NULL OR EXISTS (
             SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id = users.id AND \(RoleStore.referenceExpression("r")) = $3))
        """

    /// One page of users (newest first) with their roles, and how many match in all.
    public func list(_ filter: Filter, limit: Int, offset: Int, on db: some PGQueryable) async throws
        -> (users: [(user: User, roles: [String])], total: Int)
    {
        let binds: [any PGEncodable] = [filter.search, filter.status, filter.role]
        let total = try await db.query("SELECT count(*)::int8 AS n FROM users WHERE \(Self.whereClause)", binds).first?.decode("n", as: Int.self) ?? 0
        let rows = try await db.query(
            """
            SELECT \(User.columns), \(RoleStore.storedRolesColumns(user: "users.id")) FROM users
            WHERE \(Self.whereClause) ORDER BY created_at DESC, id LIMIT $4 OFFSET $5
            """, binds + [limit, offset])
        return (try rows.map { (try User(row: $0), try RoleStore.storedRoles($0).roles) }, total)
    }
}
