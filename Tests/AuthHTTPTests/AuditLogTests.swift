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
            // One row per tenant event, written with it (the outbox and the trail agree).
            #expect(rows.count == (try await app.events(tenant)).count)
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
            try await app.env.db.inTenant(tenant) { tx in _ = try await tx.queryUnprepared("DROP FUNCTION write_audit_row(auth.events)", []) }
            let signup = try await client.signup("bob@example.com")
            let userText = try #require(signup.object["user"]?["id"]?.stringValue)
            let user = try #require(UUID(uuidString: userText))
            let login = try await client.login("bob@example.com", headers: ["user-agent": "audit-test/2.0", "x-request-id": "req-audit-2"])
            #expect(login.status == .ok)
            let rows = try await Self.rows(app, tenant)
            #expect(rows.contains(AuditRow(kind: "auth.logged_in", outcome: "success", userAgent: "audit-test/2.0", requestID: "req-audit-2", userID: user)))
            #expect(rows.count == (try await app.events(tenant)).count)
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
