#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Sessions of a tenant (`sessions`), inside a tenant transaction. Refresh secrets are stored
/// only as SHA-256 digests plus the current token sealed under the previous one (DESIGN.md §6).
public struct SessionStore: Sendable {
    /// The refresh state of a session row, read under `FOR UPDATE`.
    public struct RefreshState: Sendable {
        public var session: Session
        public var currentDigest: [UInt8]?
        public var previousDigest: [UInt8]?
        public var sealedCurrent: [UInt8]?
        public var rotatedAt: Date?
    }

    public init() {}

    /// `Session.columns` qualified with `s.` (built once, not per query).
    static let sessionColumnsOfS = Session.columns.split(separator: ",")
        .map { "s." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")

    /// Inserts a session with the digest of its first refresh token, and optionally an outbox
    /// event in the same statement.
    public func create(
        id: UUID, userID: UUID, data: JSONObject, request: AuthRequest, refresh: RefreshToken, idleTimeout: Duration,
        lifetime: Duration, event: AuthEvent? = nil, in tx: PGTransaction
    ) async throws -> Session {
        let eventCTE = event == nil ? "" : """
            WITH event AS (
                INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data)
                VALUES ($10, $11, $12, $13, $14, $15, $16)
            )
            """
        let binds: [any PGEncodable] = [
            id, userID, PGBind.jsonb(JSONValue.object(data).jsonText), request.ipAddress,
            request.userAgent.map { String($0.prefix(512)) }, idleTimeout.timeInterval, lifetime.timeInterval,
            PGBind.bytea(refresh.digest), refresh.keyID,
        ]
        let rows = try await tx.query(
            """
            \(eventCTE)
            INSERT INTO sessions (id, user_id, data, ip_address, user_agent, idle_expires_at, expires_at, refresh_digest, refresh_key_id)
            VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), now() + make_interval(secs => $7), $8, $9)
            RETURNING \(Session.columns)
            """, binds + (event.map(EventOutbox.binds) ?? []))
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        return try Session(row: row)
    }

    /// Reads a session with its refresh state, locking the row for the rest of the transaction.
    public func lockForRefresh(sessionID: UUID, in tx: PGTransaction) async throws -> RefreshState? {
        let rows = try await tx.query(
            """
            SELECT \(Session.columns), refresh_digest, previous_refresh_digest, sealed_refresh, rotated_at
            FROM sessions WHERE id = $1 FOR UPDATE
            """, sessionID)
        guard let row = rows.first else { return nil }
        return RefreshState(
            session: try Session(row: row),
            currentDigest: try row.decode("refresh_digest", as: PGBytes?.self)?.bytes,
            previousDigest: try row.decode("previous_refresh_digest", as: PGBytes?.self)?.bytes,
            sealedCurrent: try row.decode("sealed_refresh", as: PGBytes?.self)?.bytes,
            rotatedAt: try row.decode("rotated_at", as: Date?.self))
    }

    /// `lockForRefresh` plus the session's user and stored roles/permissions, in one round trip.
    public func lockForRefreshWithUser(sessionID: UUID, in tx: PGTransaction) async throws
        -> (RefreshState, User, roles: [String], permissions: [String])?
    {
        try await tx.blocking { conn in try Self.lockForRefreshWithUser(sessionID: sessionID, on: conn) }
    }

    /// The same, on a connection already inside a transaction (one pool-thread hop for a whole flow).
    static func lockForRefreshWithUser(sessionID: UUID, on conn: PGConnection) throws
        -> (RefreshState, User, roles: [String], permissions: [String])?
    {
        let rows = try conn.query(
            """
            SELECT \(Self.sessionColumnsOfS), s.refresh_digest, s.previous_refresh_digest, s.sealed_refresh, s.rotated_at,
                   \(User.prefixedColumns),
                   coalesce((SELECT array_agg(DISTINCT r.name ORDER BY r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                             WHERE ur.user_id = s.user_id), '{}') AS stored_roles,
                   coalesce((SELECT array_agg(DISTINCT p ORDER BY p) FROM user_roles ur JOIN roles r ON r.id = ur.role_id,
                             unnest(r.permissions) p WHERE ur.user_id = s.user_id), '{}') AS stored_permissions
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 FOR UPDATE OF s
            """, [sessionID.pgBind])
        guard let row = rows.first else { return nil }
        let state = RefreshState(
            session: try Session(row: row),
            currentDigest: try row.decode("refresh_digest", as: PGBytes?.self)?.bytes,
            previousDigest: try row.decode("previous_refresh_digest", as: PGBytes?.self)?.bytes,
            sealedCurrent: try row.decode("sealed_refresh", as: PGBytes?.self)?.bytes,
            rotatedAt: try row.decode("rotated_at", as: Date?.self))
        return (state, try User(row: row, prefix: "u_"), try row.decode("stored_roles"), try row.decode("stored_permissions"))
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
        public var event: AuthEvent
    }

    /// Rotates: the presented token becomes "previous", `next` becomes current (sealed under
    /// the presented one for the grace window); activity and idle expiry move forward.
    public func rotate(_ rotation: Rotation, in tx: PGTransaction) async throws -> Session {
        try await tx.blocking { conn in try Self.rotate(rotation, on: conn) }
    }

    /// The same, on a connection already inside a transaction.
    static func rotate(_ r: Rotation, on conn: PGConnection) throws -> Session {
        // The rotation and its outbox row in one statement (one round trip on the hot path).
        let binds: [any PGEncodable] = [
            r.sessionID, r.generation, PGBind.bytea(r.currentDigest), PGBind.bytea(r.previousDigest), PGBind.bytea(r.sealedCurrent),
            r.keyID, PGBind.jsonb(JSONValue.object(r.data).jsonText), r.idleTimeout.timeInterval,
        ] + EventOutbox.binds(r.event)
        let rows = try conn.query(
            """
            WITH event AS (
                INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data)
                VALUES ($9, $10, $11, $12, $13, $14, $15)
            )
            UPDATE sessions SET refresh_generation = $2, refresh_digest = $3, previous_refresh_digest = $4,
                sealed_refresh = $5, refresh_key_id = $6, rotated_at = now(), data = $7, last_active_at = now(),
                idle_expires_at = least(expires_at, now() + make_interval(secs => $8))
            WHERE id = $1 RETURNING \(Session.columns)
            """, binds.map(\.pgBind))
        guard let row = rows.first else { throw AuthError.sessionNotFound }
        return try Session(row: row)
    }

    /// The common refresh as one autocommit statement (its own transaction, one round trip, no
    /// BEGIN/COMMIT): the session rotates only when `presentedDigest` is its current token at
    /// `r.generation - 1` and the session and its user are live, and the `auth.refresh_token`
    /// event is inserted by the same statement only when it did (the INSERT reads the UPDATE's
    /// rows). A concurrent rotation makes PostgreSQL re-check the row after the other commits, so
    /// at most one of two racing refreshes matches. Nil: nothing was written — the caller decides
    /// with the row locked (replay, reuse, expiry, a race lost).
    ///
    /// The tables are schema-qualified (`schema` is a tenant schema name) because an autocommit
    /// statement has no transaction to `SET LOCAL search_path` in. The event's actor and subject
    /// are built in SQL with the shapes of `AuthEvent.user` and `AuthEvent.session`, since only
    /// the row knows the user; `r.data` is not written (see `writeData`).
    static func rotateIfCurrent(_ r: Rotation, schema: String, on conn: PGConnection) throws
        -> (Session, User, roles: [String], permissions: [String])?
    {
        let s = "\"\(schema)\""
        let rows = try conn.query(
            """
            WITH rotated AS (
                UPDATE \(s).sessions s SET refresh_generation = $2, refresh_digest = $3, previous_refresh_digest = $4,
                    sealed_refresh = $5, refresh_key_id = $6, rotated_at = now(), last_active_at = now(),
                    idle_expires_at = least(s.expires_at, now() + make_interval(secs => $7))
                FROM \(s).users u
                WHERE s.id = $1 AND s.refresh_generation = $2 - 1 AND s.refresh_digest = $4 AND s.revoked_at IS NULL
                  AND s.idle_expires_at > now() AND s.expires_at > now() AND u.id = s.user_id AND u.is_active
                RETURNING \(Self.sessionColumnsOfS), \(User.prefixedColumns)
            ), event AS (
                INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data)
                SELECT $8, $9, $10, $11, jsonb_build_object('type', 'user', 'id', r.user_id),
                       jsonb_build_object('type', 'session', 'id', r.id, 'userId', r.user_id), $12
                FROM rotated r
            )
            SELECT r.*,
                   coalesce((SELECT array_agg(DISTINCT ro.name ORDER BY ro.name) FROM \(s).user_roles ur
                             JOIN \(s).roles ro ON ro.id = ur.role_id WHERE ur.user_id = r.user_id), '{}') AS stored_roles,
                   coalesce((SELECT array_agg(DISTINCT p ORDER BY p) FROM \(s).user_roles ur JOIN \(s).roles ro ON ro.id = ur.role_id,
                             unnest(ro.permissions) p WHERE ur.user_id = r.user_id), '{}') AS stored_permissions
            FROM rotated r
            """,
            [
                r.sessionID.pgBind, r.generation.pgBind, PGBind.bytea(r.currentDigest), PGBind.bytea(r.previousDigest),
                PGBind.bytea(r.sealedCurrent), r.keyID.pgBind, r.idleTimeout.timeInterval.pgBind,
                r.event.id.pgBind, r.event.type.rawValue.pgBind, r.event.version.pgBind, r.event.tenantID.pgBind,
                PGBind.jsonb(JSONValue.object(r.event.data).jsonText),
            ])
        guard let row = rows.first else { return nil }
        return (try Session(row: row), try User(row: row, prefix: "u_"), try row.decode("stored_roles"), try row.decode("stored_permissions"))
    }

    /// Rewrites a session's data if it is still at `generation` (autocommit; see `rotateIfCurrent`).
    static func writeData(_ data: JSONObject, sessionID: UUID, generation: Int, schema: String, on conn: PGConnection) throws {
        try conn.query(
            "UPDATE \"\(schema)\".sessions SET data = $2 WHERE id = $1 AND refresh_generation = $3",
            [sessionID.pgBind, PGBind.jsonb(JSONValue.object(data).jsonText), generation.pgBind])
    }

    /// Revokes one live session; returns it (nil when it was not live).
    @discardableResult
    public func revoke(sessionID: UUID, reason: String, in tx: PGTransaction) async throws -> Session? {
        try await tx.query(
            """
            UPDATE sessions SET revoked_at = now(), revoked_reason = $2, refresh_digest = NULL,
                previous_refresh_digest = NULL, sealed_refresh = NULL
            WHERE id = $1 AND revoked_at IS NULL RETURNING \(Session.columns)
            """, sessionID, reason
        ).first.map(Session.init(row:))
    }

    /// Revokes every live session of a user; returns them (the pre-revocation list).
    public func revokeAll(userID: UUID, reason: String, except: UUID? = nil, in tx: PGTransaction) async throws -> [Session] {
        try await tx.query(
            """
            UPDATE sessions SET revoked_at = now(), revoked_reason = $2, refresh_digest = NULL,
                previous_refresh_digest = NULL, sealed_refresh = NULL
            WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3) RETURNING \(Session.columns)
            """, userID, reason, except
        ).map(Session.init(row:))
    }

    /// Keeps at most `max - 1` live sessions (room for the one being created), revoking the least
    /// recently active; returns the evicted sessions.
    public func evictBeyond(userID: UUID, max: Int, in tx: PGTransaction) async throws -> [Session] {
        try await tx.query(
            """
            UPDATE sessions SET revoked_at = now(), revoked_reason = 'evicted', refresh_digest = NULL,
                previous_refresh_digest = NULL, sealed_refresh = NULL
            WHERE id IN (
                SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL
                ORDER BY last_active_at DESC, created_at DESC OFFSET $2
            ) AND revoked_at IS NULL RETURNING \(Session.columns)
            """, userID, Swift.max(0, max - 1)
        ).map(Session.init(row:))
    }

    /// A live session with its user, on a blocking connection (the guard's database check:
    /// one thread hop for the whole lookup).
    public func liveSessionWithUser(sessionID: UUID, on conn: PGConnection) throws -> (Session, User)? {
        let rows = try conn.query(
            "SELECT \(Session.columns) FROM sessions WHERE id = $1 AND revoked_at IS NULL AND idle_expires_at > now() AND expires_at > now()",
            [sessionID.pgBind])
        guard let row = rows.first else { return nil }
        let session = try Session(row: row)
        guard let user = try conn.query("SELECT \(User.columns) FROM users WHERE id = $1", [session.userID.pgBind]).first else {
            return nil
        }
        return (session, try User(row: user))
    }

    /// Live sessions of a user, most recently active first.
    public func list(userID: UUID, in db: some PGQueryable) async throws -> [Session] {
        try await db.query(
            """
            SELECT \(Session.columns) FROM sessions
            WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > now() AND expires_at > now()
            ORDER BY last_active_at DESC
            """, userID
        ).map(Session.init(row:))
    }
}
