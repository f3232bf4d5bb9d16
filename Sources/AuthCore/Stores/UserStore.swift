#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Users and their identities, inside a tenant transaction (search path = the tenant schema).
public struct UserStore: Sendable {
    public init() {}

    /// `User.columns` qualified with `u.` (built once, not per query).
    static let userColumnsOfU = User.columns.split(separator: ",")
        .map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")

    /// Inserts the user and its email/phone identities; duplicates map to 409 codes.
    public func insert(_ new: NewUser, in tx: PGTransaction) async throws -> User {
        let rows: PGRows
        do {
            rows = try await tx.query(
                "INSERT INTO users (email, phone, is_active, metadata) VALUES ($1, $2, $3, $4) RETURNING \(User.columns)",
                new.email, new.phone, new.isActive, PGBind.jsonb(JSONValue.object(new.metadata).jsonText))
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        let user = try User(row: row)
        if let email = user.email {
            try await tx.query(
                "INSERT INTO identities (user_id, provider, provider_id) VALUES ($1, 'email', $2)", user.id, email)
        }
        if let phone = user.phone {
            try await tx.query(
                "INSERT INTO identities (user_id, provider, provider_id) VALUES ($1, 'phone', $2)", user.id, phone)
        }
        return user
    }

    public func find(id: UUID, in db: some PGQueryable, forUpdate: Bool = false) async throws -> User? {
        try await db.query("SELECT \(User.columns) FROM users WHERE id = $1\(forUpdate ? " FOR UPDATE" : "")", id)
            .first.map { try User(row: $0) }
    }

    /// The user and password hash for a login identifier (normalised email or phone).
    public func credentialsFor(email: String?, phone: String?, in db: some PGQueryable) async throws -> (User, String)? {
        let rows = try await db.query(
            """
            SELECT \(Self.userColumnsOfU),
                   c.password_hash
            FROM users u JOIN credentials c ON c.user_id = u.id
            WHERE \(email != nil ? "u.email" : "u.phone") = $1
            """, email ?? phone)
        guard let row = rows.first else { return nil }
        return (try User(row: row), try row.decode("password_hash"))
    }

    /// Applies `changes`; returns the updated user.
    public func update(id: UUID, _ changes: UserChanges, in tx: PGTransaction) async throws -> User {
        var sets: [String] = []
        var binds: [any PGEncodable] = [id]
        func add(_ column: String, _ value: any PGEncodable) {
            binds.append(value)
            sets.append("\(column) = $\(binds.count)")
        }
        if let email = changes.email { add("email", email) }
        if let phone = changes.phone { add("phone", phone) }
        if let isActive = changes.isActive { add("is_active", isActive) }
        if let isMfaEnabled = changes.isMfaEnabled { add("is_mfa_enabled", isMfaEnabled) }
        if let metadata = changes.metadata { add("metadata", PGBind.jsonb(JSONValue.object(metadata).jsonText)) }
        sets.append("updated_at = now()")
        let rows: PGRows
        do {
            rows = try await tx.query("UPDATE users SET \(sets.joined(separator: ", ")) WHERE id = $1 RETURNING \(User.columns)", binds)
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        guard let row = rows.first else { throw AuthError.userNotFound }
        let user = try User(row: row)
        // The sign-in identities follow the addresses they are named after.
        do {
            if changes.email != nil { try await syncIdentity("email", user.email, userID: id, in: tx) }
            if changes.phone != nil { try await syncIdentity("phone", user.phone, userID: id, in: tx) }
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        return user
    }

    private func syncIdentity(_ provider: String, _ value: String?, userID: UUID, in tx: PGTransaction) async throws {
        try await tx.query("DELETE FROM identities WHERE user_id = $1 AND provider = $2", userID, provider)
        if let value {
            try await tx.query("INSERT INTO identities (user_id, provider, provider_id) VALUES ($1, $2, $3)", userID, provider, value)
        }
    }

    public func delete(id: UUID, in tx: PGTransaction) async throws {
        try await tx.query("DELETE FROM users WHERE id = $1", id)
    }

    static func mapUnique(_ error: PGError) -> any Error {
        if error.isUniqueViolation(constraint: "users_email_key") { return AuthError.emailAlreadyExists }
        if error.isUniqueViolation(constraint: "users_phone_key") { return AuthError.phoneAlreadyExists }
        if error.isUniqueViolation(constraint: "identities_provider_key") {
            return error.detail?.contains("(provider, provider_id)=(phone,") == true ? AuthError.phoneAlreadyExists : AuthError.emailAlreadyExists
        }
        return error
    }
}
