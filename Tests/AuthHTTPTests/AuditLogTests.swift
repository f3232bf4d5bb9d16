import AuthCore
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit
import TestSupport
import Testing

/// Requirement 23 (issue 18 item 5): every security event writes an audit row in the same
/// transaction as its change — with tenant, actor, address, user agent, request id, time and
/// outcome, never a secret — and the application cannot change or remove one.
@Suite struct AuditLogTests {
    struct AuditRow: Equatable {
        var kind: String
        var outcome: String
        var userAgent: String?
        var requestID: String?
        var userID: UUID?
    }

    static func rows(_ app: TestApp, _ tenant: Tenant) async throws -> [AuditRow] {
        try await app.env.db.inTenant(tenant) { tx in
            try await tx.query("SELECT kind, outcome, user_agent, request_id, user_id FROM audit_log ORDER BY id").map {
                AuditRow(
                    kind: try $0.decode("kind"), outcome: try $0.decode("outcome"), userAgent: try $0.decode("user_agent", as: String?.self),
                    requestID: try $0.decode("request_id", as: String?.self), userID: try $0.decode("user_id", as: UUID?.self))
            }
        }
    }

    /// Rows that disagree with their outbox event in any column the trigger fills, or that have
    /// no event: 0 when every row says exactly what its event says.
    static func mismatches(_ app: TestApp, _ tenant: Tenant) async throws -> Int {
        try await app.scalar(
            tenant,
            """
            SELECT count(*)::int8 FROM audit_log a LEFT JOIN auth.events e ON e.id = a.event_id
            WHERE e.id IS NULL OR a.kind IS DISTINCT FROM e.type
               OR a.user_id IS DISTINCT FROM coalesce(auth.event_uuid(e.subject->>'userId'),
                    CASE WHEN e.subject->>'type' = 'user' THEN auth.event_uuid(e.subject->>'id') END,
                    CASE WHEN e.actor->>'type' = 'user' THEN auth.event_uuid(e.actor->>'id') END)
               OR a.session_id IS DISTINCT FROM (CASE WHEN e.subject->>'type' = 'session' THEN auth.event_uuid(e.subject->>'id') END)
               OR a.actor IS DISTINCT FROM e.actor OR a.actor_id IS DISTINCT FROM auth.event_uuid(e.actor->>'id')
               OR a.outcome IS DISTINCT FROM (CASE WHEN e.type IN ('auth.login_failed', 'auth.refresh_token_reuse_detected', 'auth.account_locked')
                                                   THEN 'failure' ELSE 'success' END)
               OR a.ip_address IS DISTINCT FROM coalesce(e.request->>'ip', e.data->>'ip')
               OR a.user_agent IS DISTINCT FROM e.request->>'userAgent' OR a.request_id IS DISTINCT FROM e.request->>'requestId'
               OR a.data IS DISTINCT FROM e.data
            """)
    }

    /// 1 when the tenant's schema has its own audit writer.
    static func hasWriter(_ app: TestApp, _ tenant: Tenant) async throws -> Int {
        try await app.scalar(
            tenant, "SELECT (to_regprocedure(format('%I.%I(auth.events)', current_schema(), auth.audit_writer_name(current_schema()))) IS NOT NULL)::int::int8")
    }

    /// Each tenant's writer has a name of its own: a lookup by name then finds one function,
    /// not one per tenant (the shared name made every event's two lookups walk all tenants').
    @Test func everyTenantsWriterHasANameOfItsOwn() async throws {
        try await TestApp.with { app, _ in
            let tenant = try await app.defaultTenant()
            _ = try await app.tenant()
            _ = try await app.tenant()
            let writers = try await app.scalar(tenant, """
                SELECT count(DISTINCT p.proname)::int8 FROM pg_proc p
                  JOIN pg_namespace n ON n.oid = p.pronamespace JOIN auth.tenants t ON t.schema_name = n.nspname
                 WHERE p.proname = auth.audit_writer_name(t.schema_name)
                """)
            let tenants = try await app.scalar(tenant, "SELECT count(*)::int8 FROM auth.tenants")
            #expect(tenants >= 3 && writers == tenants)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM pg_proc WHERE proname = 'write_audit_row' AND prorettype = 'void'::regtype") == 0)
        }
    }

    @Test func loginsRefreshesAndFailuresLeaveRowsWithTheirRequest() async throws {
        try await TestApp.with { app, client in
            let tenant = try await app.defaultTenant()
            let signup = try await client.signup("ann@example.com")
            let userText = try #require(signup.object["user"]?["id"]?.stringValue)
            let user = try #require(UUID(uuidString: userText))
            let headers = ["user-agent": "audit-test/1.0", "x-request-id": "req-audit-1"]
            let login = try await client.login("ann@example.com", headers: headers)
            #expect(login.status == .ok)
            let wrong = try await client.login("ann@example.com", "not the password at all", headers: ["user-agent": "audit-test/1.0"])
            #expect(wrong.code == "INVALID_CREDENTIALS")
            #expect(try await client.refresh(try #require(login.refreshToken)).status == .ok)

            let rows = try await Self.rows(app, tenant)
            let loggedIn = try #require(rows.first { $0.kind == "auth.logged_in" && $0.requestID == "req-audit-1" })
            #expect(loggedIn == AuditRow(kind: "auth.logged_in", outcome: "success", userAgent: "audit-test/1.0", requestID: "req-audit-1", userID: user))
            let failed = try #require(rows.first { $0.kind == "auth.login_failed" })
            #expect(failed.outcome == "failure" && failed.userAgent == "audit-test/1.0" && failed.userID == user)
            #expect(rows.contains { $0.kind == "auth.refresh_token" && $0.userID == user })
            #expect(rows.contains { $0.kind == "auth.registered" })
            // One row per tenant event, written with it by the tenant's own writer (the default
            // tenant got it from the migration; a tenant created later from its own), and every
            // column as the event says.
            #expect(rows.count == (try await app.events(tenant)).count)
            #expect(try await Self.hasWriter(app, tenant) == 1)
            #expect(try await Self.hasWriter(app, try await app.tenant()) == 1)
            #expect(try await Self.mismatches(app, tenant) == 0)
            // No secret reaches the trail: neither the password nor a token.
            let text = try await app.env.db.inTenant(tenant) { tx in
                try #require(try await tx.query("SELECT string_agg(row_to_json(a)::text, ' ') AS t FROM audit_log a").first).decode("t", as: String.self)
            }
            #expect(!text.contains("correct horse battery") && !text.contains("not the password"))
            let refresh = try #require(login.refreshToken)
            let access = try #require(login.accessToken)
            #expect(!text.contains(refresh) && !text.contains(access))
        }
    }

    /// A schema without its own writer (created by an older build during a rolling deploy)
    /// still gets every row, through the trigger's dynamic fallback, with the same fields.
    @Test func aSchemaWithoutItsWriterStillGetsItsRows() async throws {
        try await TestApp.with { app, client in
            let tenant = try await app.defaultTenant()
            try await app.env.db.inTenant(tenant) { tx in
                _ = try await tx.queryUnprepared(
                    "DO $$ BEGIN EXECUTE format('DROP FUNCTION %I(auth.events)', auth.audit_writer_name(current_schema())); END $$", [])
            }
            #expect(try await Self.hasWriter(app, tenant) == 0)
            let signup = try await client.signup("bob@example.com")
            let userText = try #require(signup.object["user"]?["id"]?.stringValue)
            let user = try #require(UUID(uuidString: userText))
            let login = try await client.login("bob@example.com", headers: ["user-agent": "audit-test/2.0", "x-request-id": "req-audit-2"])
            #expect(login.status == .ok)
            let rows = try await Self.rows(app, tenant)
            #expect(rows.contains(AuditRow(kind: "auth.logged_in", outcome: "success", userAgent: "audit-test/2.0", requestID: "req-audit-2", userID: user)))
            #expect(rows.count == (try await app.events(tenant)).count)
            #expect(try await Self.mismatches(app, tenant) == 0)
        }
    }

    /// A change rolled back leaves no audit row either: `onSignup` runs after the user's
    /// creation appended `auth.user.created` (and so wrote its row), then throws.
    @Test func aRolledBackChangeLeavesNoRow() async throws {
        var hooks = AuthHooks()
        hooks.onSignup = { _, _, _ in throw AuthError.rejection(code: "NO_THANKS", message: "refused") }
        try await TestApp.with(hooks: hooks) { app, client in
            let tenant = try await app.defaultTenant()
            let before = try await Self.rows(app, tenant).count
            let r = try await client.signup("ann@example.com")
            #expect(r.status == .forbidden)
            #expect(try await Self.rows(app, tenant).count == before)
        }
    }

    /// The application's own connection cannot update, delete or truncate audit rows.
    @Test func theTrailIsAppendOnly() async throws {
        try await TestApp.with { app, client in
            let tenant = try await app.defaultTenant()
            _ = try await client.signup("ann@example.com")
            let count = try await app.scalar(tenant, "SELECT count(*)::int8 FROM audit_log WHERE outcome = 'success'")
            #expect(count > 0)
            for sql in ["UPDATE audit_log SET outcome = 'failure'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
                let error = await #expect(throws: PGError.self, "\(sql)") {
                    try await app.pool.withTransaction(searchPath: tenant.schemaName) { tx in try await tx.query(sql) }
                }
                #expect(error?.sqlState == "42501")
            }
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM audit_log WHERE outcome = 'success'") == count)
        }
    }
}
