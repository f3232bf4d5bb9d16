#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Sessions of a tenant (`sessions`), in the tenant's schema. Refresh secrets are stored only as
/// SHA-256 digests plus the current token sealed under the previous one (DESIGN.md §6). Every
/// time comparison against a stored timestamp is made by the database's clock.
public struct SessionStore: Sendable {
    /// The refresh state of a session row, read under `FOR UPDATE`.
    public struct RefreshState: Sendable {
        public var session: Session
        public var currentDigest: [UInt8]?
        public var previousDigest: [UInt8]?
        public var sealedCurrent: [UInt8]?
        /// Seconds since the last rotation by the database's clock (nil: never rotated).
        public var secondsSinceRotation: Double?
        /// Not revoked, and within its idle and absolute lifetimes by the database's clock.
        public var isLive: Bool
    }

    /// One rotation of a session's refresh token.
    public struct Rotation: Sendable {
        public var sessionID: UUID
        public var generation: Int
        public var currentDigest: [UInt8]
        public var previousDigest: [UInt8]
        public var sealedCurrent: [UInt8]
        public var keyID: String
        public var data: JSONObject
        public var idleTimeout: Duration
        /// `auth.refresh_token`, written by the rotating statement itself.
        public var event: EventStore.Row
    }

    public init() {}

    /// `Session.columns` qualified with `s.` (built once, not per query).
    static let sessionColumnsOfS = Session.columns.split(separator: ",")
        .map { "s." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")

    /// The refresh columns every locked read returns, liveness and age computed by the database.
    static let refreshColumnsOfS = """
        s.refresh_digest, s.previous_refresh_digest, s.sealed_refresh,
        extract(epoch FROM now() - s.rotated_at)::float8 AS seconds_since_rotation,
        (s.revoked_at IS NULL AND s.idle_expires_at > now() AND s.expires_at > now()) AS is_live
        """

    /// Inserts a session with the digest of its first refresh token, and optionally its outbox
    /// event in the same statement.
    public func create(
        id: UUID, userID: UUID, data: JSONObject, request: AuthRequest, refresh: RefreshToken, idleTimeout: Duration,
        lifetime: Duration, mfaVerified: Bool = false, firstFactor: String? = nil, event: EventStore.Row? = nil, on db: some PGQueryable
    ) async throws -> Session {
        let binds: [any PGEncodable] = [
            id, userID, PGBind.jsonb(JSONValue.object(data).jsonText), request.ipAddress,
            request.userAgent.map { String($0.prefix(512)) }, idleTimeout.timeInterval, lifetime.timeInterval,
            PGBind.bytea(refresh.digest), refresh.keyID, mfaVerified, firstFactor,
        ]
        let eventCTE = event == nil ? "" : "WITH event AS (\(EventStore.insertSQL(first: binds.count + 1)))\n"
        let rows = try await db.query(
            """
            \(eventCTE)INSERT INTO sessions (id, user_id, data, ip_address, user_agent, idle_expires_at, expires_at, refresh_digest, refresh_key_id,
                mfa_verified, first_factor)
            VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), now() + make_interval(secs => $7), $8, $9, $10, $11)
            RETURNING \(Session.columns)
            """, binds + (event.map(EventStore.binds) ?? []))
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        return try Session(row: row)
    }

    /// A session with its refresh state, its user and the user's stored roles and permissions,
    /// the session row locked for the rest of the transaction (one round trip).
    public func lockForRefresh(sessionID: UUID, on db: some PGQueryable) async throws
        -> (state: RefreshState, user: User, roles: [String], permissions: [String])?
    {
        let rows = try await db.query(
            """
            SELECT \(Self.sessionColumnsOfS), \(Self.refreshColumnsOfS), \(User.prefixedColumns),
                   \(RoleStore.storedRolesColumns(user: "s.user_id"))
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 FOR UPDATE OF s
            """, sessionID)
        guard let row = rows.first else { return nil }
        let (roles, permissions) = try RoleStore.storedRoles(row)
        return (try Self.refreshState(row), try User(row: row, prefix: "u_"), roles, permissions)
    }

    static func refreshState(_ row: PGRow) throws -> RefreshState {
        RefreshState(
            session: try Session(row: row),
            currentDigest: try row.decode("refresh_digest", as: PGBytes?.self)?.bytes,
            previousDigest: try row.decode("previous_refresh_digest", as: PGBytes?.self)?.bytes,
            sealedCurrent: try row.decode("sealed_refresh", as: PGBytes?.self)?.bytes,
            secondsSinceRotation: try row.decode("seconds_since_rotation", as: Double?.self),
            isLive: try row.decode("is_live"))
    }

    /// The values of a rotation's SET, from `$2` on (`$1` is the session id).
    private static func rotationBinds(_ r: Rotation) -> [any PGEncodable] {
        [
            r.sessionID, r.generation, PGBind.bytea(r.currentDigest), PGBind.bytea(r.previousDigest), PGBind.bytea(r.sealedCurrent),
            r.keyID, r.idleTimeout.timeInterval,
        ]
    }

    /// The SET of a rotation (the presented token becomes "previous", the new one current,
    /// sealed under the presented one for the grace window; activity and idle expiry move on).
    private static let rotationSet = """
        refresh_generation = $2, refresh_digest = $3, previous_refresh_digest = $4, sealed_refresh = $5, refresh_key_id = $6,
        rotated_at = now(), last_active_at = now(), idle_expires_at = least(s.expires_at, now() + make_interval(secs => $7))
        """

    /// Rotates a session locked by `lockForRefresh`, writing its data and its event in the same
    /// statement.
    public func rotate(_ r: Rotation, on db: some PGQueryable) async throws -> Session {
        let binds = Self.rotationBinds(r) + [PGBind.jsonb(JSONValue.object(r.data).jsonText)]
        let rows = try await db.query(
            """
            WITH event AS (\(EventStore.insertSQL(first: binds.count + 1)))
            UPDATE sessions s SET \(Self.rotationSet), data = $8
            WHERE s.id = $1 RETURNING \(Session.columns)
            """, binds + EventStore.binds(r.event))
        guard let row = rows.first else { throw AuthError.sessionNotFound }
        return try Session(row: row)
    }

    /// The common refresh as one autocommit statement in the tenant's schema (one round trip,
    /// no BEGIN/COMMIT): the session rotates only when `r.previousDigest` is its current token at
    /// `r.generation - 1` and the session and its user are live, and the `auth.refresh_token`
    /// event is inserted by the same statement only when it did (the INSERT reads the UPDATE's
    /// rows, which also give the event its actor and subject). A concurrent rotation makes
    /// PostgreSQL re-check the row after the other commits, so at most one of two racing
    /// refreshes matches. Nil: nothing was written — the caller decides with the row locked
    /// (replay, reuse, expiry, a race lost). `r.data` is not written here (see `writeData`).
    public func rotateIfCurrent(_ r: Rotation, on db: some PGQueryable) async throws
        -> (session: Session, user: User, roles: [String], permissions: [String])?
    {
        let binds = Self.rotationBinds(r)
        let event = EventStore.insertSQL(
            first: binds.count + 1, actor: "jsonb_build_object('type', 'user', 'id', r.user_id)",
            subject: "jsonb_build_object('type', 'session', 'id', r.id, 'userId', r.user_id)", from: "rotated r")
        let rows = try await db.query(
            """
            WITH rotated AS (
                UPDATE sessions s SET \(Self.rotationSet)
                FROM users u
                WHERE s.id = $1 AND s.refresh_generation = $2 - 1 AND s.refresh_digest = $4 AND s.revoked_at IS NULL
                  AND s.idle_expires_at > now() AND s.expires_at > now() AND u.id = s.user_id AND u.is_active
                RETURNING \(Self.sessionColumnsOfS), \(User.prefixedColumns)
            ), event AS (\(event))
            SELECT r.*, \(RoleStore.storedRolesColumns(user: "r.user_id")) FROM rotated r
            """, binds + EventStore.binds(r.event))
        guard let row = rows.first else { return nil }
        let (roles, permissions) = try RoleStore.storedRoles(row)
        return (try Session(row: row), try User(row: row, prefix: "u_"), roles, permissions)
    }

    /// A session that passed MFA: marked verified, its data rewritten, and a new refresh token
    /// (the next generation) made current with no previous one — the token of the challenge
    /// stage is spent, and presenting it later counts as reuse. Nil when it is not live.
    public func reissueVerified(sessionID: UUID, next: RefreshToken, data: JSONObject, on db: some PGQueryable) async throws -> Session? {
        try await db.query(
            """
            UPDATE sessions s SET mfa_verified = true, authenticated_at = now(), data = $2, refresh_generation = $3, refresh_digest = $4, refresh_key_id = $5,
                previous_refresh_digest = NULL, sealed_refresh = NULL, rotated_at = now(), last_active_at = now()
            WHERE s.id = $1 AND s.revoked_at IS NULL AND s.idle_expires_at > now() AND s.expires_at > now()
            RETURNING \(Session.columns)
            """, sessionID, PGBind.jsonb(JSONValue.object(data).jsonText), next.generation, PGBind.bytea(next.digest), next.keyID
        ).first.map(Session.init(row:))
    }

    /// Whether the session's owner proved themselves in it within `window` (database clock).
    public func recentlyAuthenticated(sessionID: UUID, within window: Duration, on db: some PGQueryable) async throws -> Bool {
        try await db.query(
            "SELECT 1 FROM sessions WHERE id = $1 AND authenticated_at > now() - make_interval(secs => $2)", sessionID, window.timeInterval
        ).first != nil
    }

    /// The owner just proved themselves again in this session (re-authentication).
    public func markAuthenticated(sessionID: UUID, on db: some PGQueryable) async throws {
        try await db.query("UPDATE sessions SET authenticated_at = now() WHERE id = $1", sessionID)
    }

    /// Marks a session as having passed MFA (its owner just enrolled a factor in it).
    public func markMfaVerified(sessionID: UUID, on db: some PGQueryable) async throws {
        try await db.query("UPDATE sessions SET mfa_verified = true WHERE id = $1", sessionID)
    }

    /// Rewrites a session's data if it is still at `generation` (see `rotateIfCurrent`).
    public func writeData(_ data: JSONObject, sessionID: UUID, generation: Int, on db: some PGQueryable) async throws {
        try await db.query(
            "UPDATE sessions SET data = $2 WHERE id = $1 AND refresh_generation = $3",
            sessionID, PGBind.jsonb(JSONValue.object(data).jsonText), generation)
    }

    /// The SET that revokes: the reason, and no refresh secret left.
    /// The SET list of a revocation, its reason the parameter `reason` (`$2` unless told).
    static func revokeSet(reason: String = "$2") -> String {
        "revoked_at = now(), revoked_reason = \(reason), refresh_digest = NULL, previous_refresh_digest = NULL, sealed_refresh = NULL"
    }

    /// Revokes every live session of the tenant (an admin's "log everyone out"); returns them.
    public func revokeAllInTenant(reason: String, on db: some PGQueryable) async throws -> [Session] {
        try await db.query(
            "UPDATE sessions SET \(Self.revokeSet(reason: "$1")) WHERE revoked_at IS NULL RETURNING \(Session.columns)", reason
        ).map(Session.init(row:))
    }

    /// Revokes one live session; returns it (nil when it was not live). With `owner`, only a
    /// session of that user.
    @discardableResult
    public func revoke(sessionID: UUID, reason: String, owner: UUID? = nil, on db: some PGQueryable) async throws -> Session? {
        try await db.query(
            """
            UPDATE sessions SET \(Self.revokeSet())
            WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3) RETURNING \(Session.columns)
            """, sessionID, reason, owner
        ).first.map(Session.init(row:))
    }

    /// Revokes every live session of a user; returns them (the pre-revocation list).
    public func revokeAll(userID: UUID, reason: String, except kept: UUID? = nil, on db: some PGQueryable) async throws -> [Session] {
        try await db.query(
            """
            UPDATE sessions SET \(Self.revokeSet())
            WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3) RETURNING \(Session.columns)
            """, userID, reason, kept
        ).map(Session.init(row:))
    }

    /// Keeps at most `max - 1` live sessions (room for the one being created), revoking the least
    /// recently active; returns the evicted sessions.
    public func evictBeyond(userID: UUID, max: Int, on db: some PGQueryable) async throws -> [Session] {
        try await db.query(
            """
            UPDATE sessions SET \(Self.revokeSet())
            WHERE id IN (
                SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL
                ORDER BY last_active_at DESC, created_at DESC OFFSET $3
            ) AND revoked_at IS NULL RETURNING \(Session.columns)
            """, userID, "evicted", Swift.max(0, max - 1)
        ).map(Session.init(row:))
    }

    /// A live session with its user, in one statement (the guard's database check), and how
    /// many seconds it stays live by the database's clock.
    public func liveSessionWithUser(sessionID: UUID, on db: some PGQueryable) async throws
        -> (session: Session, user: User, secondsLeft: Double)?
    {
        let rows = try await db.query(
            """
            SELECT \(Self.sessionColumnsOfS), \(User.prefixedColumns),
                   extract(epoch FROM least(s.idle_expires_at, s.expires_at) - now())::float8 AS seconds_left
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = $1 AND s.revoked_at IS NULL AND s.idle_expires_at > now() AND s.expires_at > now()
            """, sessionID)
        guard let row = rows.first else { return nil }
        return (try Session(row: row), try User(row: row, prefix: "u_"), try row.decode("seconds_left"))
    }

    /// Live sessions of a user, most recently active first.
    public func list(userID: UUID, on db: some PGQueryable) async throws -> [Session] {
        try await db.query(
            """
            SELECT \(Session.columns) FROM sessions
            WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > now() AND expires_at > now()
            ORDER BY last_active_at DESC
            """, userID
        ).map(Session.init(row:))
    }
}
