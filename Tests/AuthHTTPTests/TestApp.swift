import AuthCore
import AuthCrypto
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PGKit
import ServiceLifecycle
import TestSupport
import Testing

/// authd's routes over a real database, built by the same composition root as `authd serve`
/// (`AuthRuntime`, its services running) and driven through Hummingbird's test client.
struct TestApp: Sendable {
    let db: TestDatabase
    let runtime: AuthRuntime
    let env: AuthEnvironment
    let keyring: Keyring

    var pool: PGPool { runtime.pool }

    /// A fresh database, fast argon2 parameters (the format and logic are unchanged).
    static func with<T: Sendable>(
        hooks: AuthHooks = AuthHooks(), sqlHooks: SQLHookBindings = SQLHookBindings(),
        argon2: PasswordHasher.Parameters = .init(memoryKiB: 1024, iterations: 1, parallelism: 1),
        now: @escaping @Sendable () -> Date = { Date() }, database: TestDatabase? = nil, logger: Logger = Logger(label: "test"),
        configure: (inout AuthSettings) -> Void = { _ in }, hashQueueLimit: Int? = nil, testing: TestingSetup = .router,
        keyring sharedKeyring: Keyring? = nil,
        routes: (@Sendable (Router<AuthRequestContext>, AuthEnvironment) -> Void)? = nil,
        _ body: @escaping @Sendable (TestApp, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let db: TestDatabase
        if let database { db = database } else { db = try await TestDatabases.shared.migrated() }
        // Two runtimes on one database (two processes) must share the keyring, as deployments do.
        let keyring = try sharedKeyring ?? Keyring.ephemeral()
        var settings = AuthSettings()
        settings.secureCookies = false
        configure(&settings)
        let runtime = try await AuthRuntime.start(
            AuthRuntime.Configuration(
                database: .init(conninfo: db.conninfo, size: 4, acquireTimeout: .seconds(30)), settings: settings, keyring: keyring,
                argon2: argon2, hashThreads: 2, hashQueueLimit: hashQueueLimit, hooks: hooks, sqlHooks: sqlHooks, logger: logger, now: now))
        guard let env = runtime.env else {
            await runtime.shutdown()
            throw TestSetupError("the test database is not migrated")
        }
        let app = TestApp(db: db, runtime: runtime, env: env, keyring: keyring)
        let router = AuthHTTPServer.makeRouter(runtime: runtime)
        routes?(router, env)
        let application = Application(router: router, logger: logger)
        let services = ServiceGroup(configuration: .init(services: runtime.services, logger: Logger(label: "test")))
        do {
            let value = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await services.run()
                    return nil
                }
                let value = try await application.test(testing) { client in try await body(app, client) }
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return value
            }
            await runtime.hasher.shutdown()
            return value
        } catch {
            await services.triggerGracefulShutdown()
            await runtime.shutdown()
            throw error
        }
    }

    /// The default tenant.
    func defaultTenant() async throws -> Tenant { try await env.tenants.resolve(nil) }

    /// A new tenant.
    func tenant(_ prefix: String = "t") async throws -> Tenant {
        try await env.registry.create(slug: TestDatabase.uniqueSlug(prefix))
    }

    /// Event types recorded for a tenant, oldest first.
    func events(_ tenant: Tenant, type: String? = nil) async throws -> [(type: String, data: JSONObject, subject: JSONObject)] {
        let rows = try await pool.query(
            """
            SELECT type, data::text AS data, subject::text AS subject FROM auth.events
            WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) ORDER BY occurred_at, txid
            """, tenant.id, type)
        return try rows.map {
            (try $0.decode("type"), try JSONValue.parse(try $0.decode("data")).objectValue,
             try JSONValue.parse(try $0.decode("subject")).objectValue)
        }
    }

    /// The one-time code carried (sealed) by the newest event of `type`, opened as a consumer
    /// delivering it would; also its `data`.
    func code(_ tenant: Tenant, type: String) async throws -> (code: String, data: JSONObject) {
        let row = try #require(
            try await pool.query(
                """
                SELECT id, data::text AS data, sealed_secret FROM auth.events WHERE tenant_id = $1 AND type = $2
                ORDER BY occurred_at DESC, txid DESC LIMIT 1
                """, tenant.id, type
            ).first)
        let id: UUID = try row.decode("id")
        let sealed = try #require(try row.decode("sealed_secret", as: PGBytes?.self)).bytes
        let clear = try SecretSealer(keyring: keyring).open(
            sealed, purpose: EventOutbox.secretPurpose, associatedData: EventOutbox.secretAssociatedData(id))
        return (String(decoding: clear, as: UTF8.self), try JSONValue.parse(try row.decode("data")).objectValue)
    }

    /// Runs a query in a tenant's schema.
    func scalar(_ tenant: Tenant, _ sql: String, _ binds: any PGEncodable...) async throws -> Int {
        try await env.db.inTenant(tenant) { tx in
            try #require(try await tx.query(sql, binds).first).decode(at: 0, as: Int.self)
        }
    }
}

/// A decoded answer.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: JSONValue
    let raw: String

    var object: JSONObject { body.objectValue }
    var code: String? { object["code"]?.stringValue }
    var accessToken: String? { object["accessToken"]?.stringValue }
    var refreshToken: String? { object["refreshToken"]?.stringValue }
    var setCookies: [String] { headers[values: .setCookie] }
}

extension TestClientProtocol {
    /// Sends a request (JSON body when given) and decodes the answer.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil, raw: String? = nil, bearer: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> Reply {
        var headers = HTTPFields()
        if json != nil || raw != nil { headers[.contentType] = "application/json" }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
        let body: ByteBuffer? = raw.map { ByteBuffer(string: $0) } ?? json.map { ByteBuffer(string: $0.jsonText) }
        return try await execute(uri: uri, method: method, headers: headers, body: body) { response in
            let text = String(buffer: response.body)
            let value = text.isEmpty ? JSONValue.null : ((try? JSONValue.parse(text)) ?? .string(text))
            return Reply(status: response.status, headers: response.headers, body: value, raw: text)
        }
    }

    /// Sends raw bytes (e.g. invalid UTF-8) with the given content type.
    func callBytes(_ method: HTTPRequest.Method, _ uri: String, bytes: [UInt8], contentType: String? = "application/json",
                   headers extra: [String: String] = [:]) async throws -> Reply {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            let text = String(buffer: response.body)
            let value = text.isEmpty ? JSONValue.null : ((try? JSONValue.parse(text)) ?? .string(text))
            return Reply(status: response.status, headers: response.headers, body: value, raw: text)
        }
    }

    func signup(_ email: String, _ password: String = "correct horse battery", tenant: String? = nil, extra: JSONObject = [:])
        async throws -> Reply
    {
        var body: JSONObject = ["email": .string(email), "password": .string(password)]
        if let tenant { body["tenantId"] = .string(tenant) }
        body.merge(extra) { a, _ in a }
        return try await call(.post, "/auth/signup", json: .object(body))
    }

    func login(_ email: String, _ password: String = "correct horse battery", tenant: String? = nil, headers: [String: String] = [:])
        async throws -> Reply
    {
        var body: JSONObject = ["credentials": .object(["email": .string(email), "password": .string(password)])]
        if let tenant { body["tenantId"] = .string(tenant) }
        return try await call(.post, "/auth/login", json: .object(body), headers: headers)
    }

    func refresh(_ token: String) async throws -> Reply {
        try await call(.post, "/auth/refresh-token", json: .object(["refreshToken": .string(token)]))
    }
}

/// The decoded payload and header of a JWT (no verification).
func jwtParts(_ token: String) throws -> (header: JSONObject, payload: JSONObject) {
    let parts = token.split(separator: ".")
    try #require(parts.count == 3)
    func decode(_ s: Substring) throws -> JSONObject {
        let bytes = try #require(Base64URL.decode(String(s)))
        return try JSONValue.parse(String(decoding: bytes, as: UTF8.self)).objectValue
    }
    return (try decode(parts[0]), try decode(parts[1]))
}
