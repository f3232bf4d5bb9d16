#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Users and their identities, in a tenant's schema.
public struct UserStore: Sendable {
    public init() {}

    /// `User.columns` qualified with `u.` (built once, not per query).
    static let userColumnsOfU = User.columns.split(separator: ",")
        .map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")

    /// Inserts the user and its email/phone identities; duplicates map to 409 codes.
    public func insert(_ new: NewUser, on db: some PGQueryable) async throws -> User {
        let rows: PGRows
        do {
            rows = try await db.query(
                """
                INSERT INTO users (email, phone, is_active, metadata, email_verified_at)
                VALUES ($1, $2, $3, $4, CASE WHEN $5 AND $1::text IS NOT NULL THEN now() END) RETURNING \(User.columns)
                """,
                new.email, new.phone, new.isActive, PGBind.jsonb(JSONValue.object(new.metadata).jsonText), new.emailVerified)
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        let user = try User(row: row)
        do {
            if let email = user.email { try await addIdentity("email", email, userID: user.id, on: db) }
            if let phone = user.phone { try await addIdentity("phone", phone, userID: user.id, on: db) }
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        return user
    }

    public func find(id: UUID, forUpdate: Bool = false, on db: some PGQueryable) async throws -> User? {
        try await db.query("SELECT \(User.columns) FROM users WHERE id = $1\(forUpdate ? " FOR UPDATE" : "")", id)
            .first.map { try User(row: $0) }
    }

    /// The user with this normalised e-mail address or phone number.
    public func find(email: String?, phone: String?, on db: some PGQueryable) async throws -> User? {
        guard email != nil || phone != nil else { return nil }
        return try await db.query("SELECT \(User.columns) FROM users WHERE \(email != nil ? "email" : "phone") = $1", email ?? phone)
            .first.map { try User(row: $0) }
    }

    /// The user and password hash for a login identifier (normalised email or phone).
    public func credentialsFor(email: String?, phone: String?, on db: some PGQueryable) async throws -> StoredCredential? {
        let rows = try await db.query(
            """
            SELECT \(Self.userColumnsOfU),
                   c.password_hash, coalesce(c.locked_until > now(), false) AS locked
            FROM users u JOIN credentials c ON c.user_id = u.id
            WHERE \(email != nil ? "u.email" : "u.phone") = $1
            """, email ?? phone)
        guard let row = rows.first else { return nil }
        return StoredCredential(user: try User(row: row), hash: try row.decode("password_hash"), locked: try row.decode("locked"))
    }

    /// Applies `changes`; returns the updated user.
    public func update(id: UUID, _ changes: UserChanges, on db: some PGQueryable) async throws -> User {
        var sets: [String] = []
        var binds: [any PGEncodable] = [id]
        func add(_ column: String, _ value: any PGEncodable) {
            binds.append(value)
            sets.append("\(column) = $\(binds.count)")
        }
        var emailBind: Int?, phoneBind: Int?
        if let email = changes.email {
            add("email", email)
            emailBind = binds.count
        }
        if let phone = changes.phone {
            add("phone", phone)
            phoneBind = binds.count
        }
        if let isActive = changes.isActive { add("is_active", isActive) }
        if let isMfaEnabled = changes.isMfaEnabled { add("is_mfa_enabled", isMfaEnabled) }
        if let metadata = changes.metadata { add("metadata", PGBind.jsonb(JSONValue.object(metadata).jsonText)) }
        // Verified now, or not; a changed address is unverified until verified again (on the
        // right of SET, `email` is the old value, so an unchanged address keeps its state).
        for (column, verified, addressBind) in [
            ("email", changes.emailVerified, emailBind), ("phone", changes.phoneVerified, phoneBind),
        ] {
            if let verified {
                binds.append(verified)
                sets.append("\(column)_verified_at = CASE WHEN $\(binds.count) THEN coalesce(\(column)_verified_at, now()) END")
            } else if let addressBind {
                sets.append("\(column)_verified_at = CASE WHEN \(column) IS NOT DISTINCT FROM $\(addressBind) THEN \(column)_verified_at END")
            }
        }
        sets.append("updated_at = now()")
        let rows: PGRows
        do {
            rows = try await db.query("UPDATE users SET \(sets.joined(separator: ", ")) WHERE id = $1 RETURNING \(User.columns)", binds)
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        guard let row = rows.first else { throw AuthError.userNotFound }
        let user = try User(row: row)
        // The sign-in identities follow the addresses they are named after.
        do {
            if changes.email != nil { try await syncIdentity("email", user.email, userID: id, on: db) }
            if changes.phone != nil { try await syncIdentity("phone", user.phone, userID: id, on: db) }
        } catch let error as PGError {
            throw Self.mapUnique(error)
        }
        return user
    }

    private func syncIdentity(_ provider: String, _ value: String?, userID: UUID, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM identities WHERE user_id = $1 AND provider = $2", userID, provider)
        if let value { try await addIdentity(provider, value, userID: userID, on: db) }
    }

    private func addIdentity(_ provider: String, _ value: String, userID: UUID, on db: some PGQueryable) async throws {
        try await db.query("INSERT INTO identities (user_id, provider, provider_id) VALUES ($1, $2, $3)", userID, provider, value)
    }

    /// Stamps a login that proved itself without a password (provider, passkey) and locks the
    /// row; nil when the user is gone.
    public func stampLogin(id: UUID, on db: some PGQueryable) async throws -> User? {
        try await db.query("UPDATE users SET last_login_at = now() WHERE id = $1 RETURNING \(User.columns)", id)
            .first.map { try User(row: $0) }
    }

    public func delete(id: UUID, on db: some PGQueryable) async throws {
        try await db.query("DELETE FROM users WHERE id = $1", id)
    }

    static func mapUnique(_ error: PGError) -> any Error {
        if error.isUniqueViolation(constraint: "users_email_key") { return AuthError.emailAlreadyExists }
        // Removing the only address an account has (an admin's PATCH {"email": null}).
        if error.sqlState == "23514", error.constraint == "users_email_or_phone" { return AuthError(.emailOrPhoneRequired) }
        if error.isUniqueViolation(constraint: "users_phone_key") { return AuthError.phoneAlreadyExists }
        if error.isUniqueViolation(constraint: "identities_provider_key") {
            return error.detail?.contains("(provider, provider_id)=(phone,") == true ? AuthError.phoneAlreadyExists : AuthError.emailAlreadyExists
        }
        return error
    }
}

/// A user with the password hash a login verifies, and whether the account is locked now (by
/// the database's clock).
public struct StoredCredential: Sendable {
    public var user: User
    public var hash: String
    public var locked: Bool
}
