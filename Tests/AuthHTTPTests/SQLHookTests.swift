import AuthCore
import HTTPTypes
import PGKit
import TestSupport
import Testing

/// Hooks bound to SQL functions: same connection, same transaction, status/code mapping,
/// HOOK_FAILED and the timeout (DESIGN.md §4).
@Suite struct SQLHookTests {
    static let functions = """
        CREATE SCHEMA IF NOT EXISTS app;
        CREATE TABLE IF NOT EXISTS app.profiles (user_id uuid PRIMARY KEY, tenant text NOT NULL, txid text NOT NULL);
        CREATE OR REPLACE FUNCTION app.before_create(payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
        BEGIN
          IF payload->'input'->>'email' LIKE '%@banned.test' THEN
            RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'EMAIL_DOMAIN_NOT_ALLOWED', DETAIL = 'This domain cannot sign up', HINT = '422';
          END IF;
          RETURN jsonb_build_object('metadata', jsonb_build_object('source', 'sql'), 'roles', jsonb_build_array('member'));
        END $$;
        CREATE OR REPLACE FUNCTION app.after_create(payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO app.profiles VALUES ((payload->'user'->>'id')::uuid, payload->'tenant'->>'slug', pg_current_xact_id()::text);
          IF payload->'user'->>'email' = 'broken@example.com' THEN PERFORM 1 / 0; END IF;
          IF payload->'user'->>'email' = 'slow@example.com' THEN PERFORM pg_sleep(5); END IF;
          RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION app.on_login(payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
        BEGIN
          IF (payload->'user'->'metadata'->>'underReview')::boolean THEN
            RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'ACCOUNT_UNDER_REVIEW', DETAIL = 'Under review';
          END IF;
          RETURN NULL;
        END $$;
        """

    static func bindings() throws -> SQLHookBindings {
        try SQLHookBindings.parse(
            try JSONValue.parse(
                #"{"user.beforeCreate": "app.before_create", "user.afterCreate": "app.after_create", "onLogin": "app.on_login"}"#
            ).objectValue, timeout: .milliseconds(300))
    }

    @Test func sqlHooksShareTheTransactionAndShapeTheUser() async throws {
        try await TestApp.with(sqlHooks: try Self.bindings()) { app, client in
            try await app.pool.withConnection { try await $0.execute(Self.functions) }
            let r = try await client.signup("ann@example.com")
            #expect(r.status == .ok)
            #expect(r.object["user"]?["metadata"] == .object(["source": .string("sql")]))
            #expect(try jwtParts(try #require(r.accessToken)).payload["roles"] == .array([.string("member")]))
            let profiles = try await app.pool.query("SELECT count(*)::int8 AS n FROM app.profiles")
            #expect(try profiles.first?.decode("n", as: Int.self) == 1)
        }
    }

    @Test func raisedCodeReachesTheClientAndRollsBack() async throws {
        try await TestApp.with(sqlHooks: try Self.bindings()) { app, client in
            try await app.pool.withConnection { try await $0.execute(Self.functions) }
            let r = try await client.signup("eve@banned.test")
            #expect(r.status == .unprocessableContent)
            #expect(r.code == "EMAIL_DOMAIN_NOT_ALLOWED")
            #expect(r.object["message"] == .string("This domain cannot sign up"))
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 0)
        }
    }

    @Test func brokenOrSlowHookIsHookFailedAndUndoesTheUser() async throws {
        try await TestApp.with(sqlHooks: try Self.bindings()) { app, client in
            try await app.pool.withConnection { try await $0.execute(Self.functions) }
            for email in ["broken@example.com", "slow@example.com"] {
                let r = try await client.signup(email)
                #expect(r.status == .internalServerError)
                #expect(r.code == "HOOK_FAILED")
                #expect(!r.raw.contains("division") && !r.raw.contains("timeout"))
            }
            let tenant = try await app.defaultTenant()
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 0)
            let profiles = try await app.pool.query("SELECT count(*)::int8 AS n FROM app.profiles")
            #expect(try profiles.first?.decode("n", as: Int.self) == 0)
            // The statement timeout was local to those transactions: normal work goes on.
            #expect(try await client.signup("fine@example.com").status == .ok)
        }
    }

    @Test func sqlOnLoginBlocksWithDefault403() async throws {
        try await TestApp.with(sqlHooks: try Self.bindings()) { app, client in
            try await app.pool.withConnection { try await $0.execute(Self.functions) }
            _ = try await client.signup("ann@example.com")
            try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try await tx.query(#"UPDATE users SET metadata = '{"underReview": true}'"#)
            }
            let r = try await client.login("ann@example.com")
            #expect(r.status == .forbidden && r.code == "ACCOUNT_UNDER_REVIEW")
        }
    }

    @Test func perTenantBindingReplacesTheGlobalOne() throws {
        let b = try SQLHookBindings.parse(
            try JSONValue.parse(#"{"onLogin": "app.global_fn", "tenants": {"acme": {"onLogin": "acme.fn"}}}"#).objectValue)
        #expect(b.global[.onLogin] == (try SQLHookBindings.FunctionName("app.global_fn")))
        #expect(b.perTenant["acme"]?[.onLogin] == (try SQLHookBindings.FunctionName("acme.fn")))
        #expect(throws: SQLHookConfigurationError.self) { try SQLHookBindings.parse(["onLogin": .string("app.\"x\"; drop")]) }
        #expect(throws: SQLHookConfigurationError.self) { try SQLHookBindings.parse(["guards.beforeAuth": .string("app.fn")]) }
    }
}
