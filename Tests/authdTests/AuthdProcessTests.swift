#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import AuthCore
import PGKit
import TestSupport
import Testing

/// The `authd` binary as an operator runs it (built by `make test` before `swift test`).
@Suite struct AuthdProcessTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["AUTHD_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/authd").path
        guard FileManager.default.isExecutableFile(atPath: fallback) else {
            throw TestSetupError("authd binary not found: run `make test` (it builds authd before swift test)")
        }
        return fallback
    }

    static func environment(_ db: TestDatabase, _ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AUTH_") }
        env["AUTH_DATABASE_URL"] = db.conninfo
        env["AUTH_LOG_LEVEL"] = "warning"
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs authd to completion. Its output goes to files, not pipes, and its exit is polled:
    /// reading a pipe to EOF blocked a cooperative thread until every holder of the pipe's write
    /// end exited — and an `authd serve` another test spawned at the same moment inherited it, so
    /// two such reads stalled the whole (2-thread) pool and the run hung.
    static func run(_ args: [String], env: [String: String], stdin: String? = nil, executable: String? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable ?? binary())
        process.arguments = args
        process.environment = env
        let base = NSTemporaryDirectory() + "authd-run-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        FileManager.default.createFile(atPath: base + ".in", contents: Data((stdin ?? "").utf8))
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
            try? FileManager.default.removeItem(atPath: base + ".in")
        }
        process.standardInput = FileHandle(forReadingAtPath: base + ".in")
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        try? out.close()
        try? err.close()
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            throw TestSetupError("\(executable ?? "authd") \(args.joined(separator: " ")) did not exit within 120 s")
        }
        let stdout = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let stderr = FileManager.default.contents(atPath: base + ".err") ?? Data()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func migrateThenTenantLifecycle() async throws {
        let db = try await TestDatabases.shared.blank()
        let env = Self.environment(db)
        let migrate = try await Self.run(["migrate"], env: env)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.contains("created tenant default"))
        let again = try await Self.run(["migrate"], env: env)
        #expect(again.status == 0)
        #expect(!again.stdout.contains("created tenant"))

        let create = try await Self.run(["tenant", "create", "acme", "--name", "Acme Inc"], env: env)
        #expect(create.status == 0, "\(create.stderr)")
        #expect(create.stdout.contains("created tenant acme"))
        let list = try await Self.run(["tenant", "list"], env: env)
        #expect(list.stdout.contains("\ndefault\t") && list.stdout.contains("\nacme\t"))

        let unconfirmed = try await Self.run(["tenant", "delete", "acme"], env: env)
        #expect(unconfirmed.status != 0)
        let delete = try await Self.run(["tenant", "delete", "acme", "--yes"], env: env)
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(!(try await Self.run(["tenant", "list"], env: env)).stdout.contains("acme"))
    }

    /// Operators script the console's accounts and tenant admins: `authd admin create` (the
    /// password on stdin, never in argv), `authd tenant grant <slug> <email> <role>` (audited).
    @Test func adminCreateAndTenantGrant() async throws {
        let db = try await TestDatabases.shared.blank()
        let env = Self.environment(db)
        #expect(try await Self.run(["migrate"], env: env).status == 0)
        let weak = try await Self.run(["admin", "create", "--email", "op@example.com"], env: env, stdin: "short\n")
        #expect(weak.status == 2 && weak.stderr.contains("PASSWORD_TOO_SHORT"), "\(weak.stderr)")
        let made = try await Self.run(["admin", "create", "--email", "Op@Example.com"], env: env, stdin: "an operator password\n")
        #expect(made.status == 0 && made.stdout.contains("created platform admin op@example.com"), "\(made.stderr)")
        #expect(try await Self.run(["admin", "list"], env: env).stdout.contains("op@example.com"))

        try await db.withPool { pool in
            let schema = try #require(
                try await pool.query("SELECT schema_name FROM auth.tenants WHERE slug = 'default'").first?.decode("schema_name", as: String.self))
            try await pool.withTransaction(searchPath: schema) { tx in try await tx.query("INSERT INTO users (email) VALUES ('ann@example.com')") }
            let unknown = try await Self.run(["tenant", "grant", "default", "ann@example.com", "no_such_role"], env: env)
            #expect(unknown.status == 2 && unknown.stderr.contains("ROLE_NOT_FOUND"))
            let grant = try await Self.run(["tenant", "grant", "default", "ann@example.com", "tenant_admin"], env: env)
            #expect(grant.status == 0, "\(grant.stderr)")
            let held = try await pool.withTransaction(searchPath: schema) { tx in
                try await tx.query(
                    """
                    SELECT count(*)::int8 AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id
                    WHERE u.email = 'ann@example.com' AND r.name = 'tenant_admin'
                    """
                ).first?.decode("n", as: Int.self)
            }
            #expect(held == 1)
            let audited = try await pool.withTransaction(searchPath: schema) { tx in
                try await tx.query("SELECT count(*)::int8 AS n FROM audit_log WHERE kind = 'auth.user.roles_changed'").first?.decode("n", as: Int.self)
            }
            #expect(audited == 1)
        }
        let set = try await Self.run(["tenant", "set", "default", "registrationEnabled=false", "passwordMinLength=12"], env: env)
        #expect(set.status == 0 && set.stdout.contains("\"passwordMinLength\":12"), "\(set.stdout) \(set.stderr)")
        let bad = try await Self.run(["tenant", "set", "default", "passwordMinLength=4"], env: env)
        #expect(bad.status == 2 && bad.stderr.contains("INVALID_INPUT"))
    }

    /// The CLI beside `make run`: `deploy/authd` loads the settings `make run` wrote to its data
    /// folder (before, a newcomer had to rebuild the AUTH_* variables by hand).
    @Test func deployWrapperLoadsTheSettingsMakeRunWrote() async throws {
        let db = try await TestDatabases.shared.migrated()
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = NSTemporaryDirectory() + "authd-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let settings = "AUTH_DATABASE_URL='\(db.conninfo)'\nAUTH_ENV=development\nAUTHD_BIN='\(try Self.binary())'\n"
        try settings.write(toFile: data + "/authd.env", atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AUTH") }
        env["AUTHD_DATA"] = data
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repo.appendingPathComponent("deploy/authd").path, "tenant", "create", "acme-dev"]
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let exited = try await eventually(timeout: .seconds(60)) { !process.isRunning }
        #expect(exited && process.terminationStatus == 0)
        let list = try await Self.run(["tenant", "list"], env: Self.environment(db))
        #expect(list.stdout.contains("\nacme-dev\t"), "\(list.stdout)")
        // Without the settings file it says what to do.
        env["AUTHD_DATA"] = data + "/missing"
        let missing = Process()
        missing.executableURL = URL(fileURLWithPath: "/bin/bash")
        missing.arguments = [repo.appendingPathComponent("deploy/authd").path, "tenant", "list"]
        missing.environment = env
        missing.standardOutput = FileHandle.nullDevice
        missing.standardError = FileHandle.nullDevice
        try missing.run()
        _ = try await eventually(timeout: .seconds(30)) { !missing.isRunning }
        #expect(missing.terminationStatus != 0)
    }

    @Test(arguments: ["bad slug", "a'b", "x;drop", "UPPER"])
    func badSlugExitsWithUsageErrorAndCreatesNothing(_ slug: String) async throws {
        let db = try await TestDatabases.shared.migrated()
        let env = Self.environment(db)
        let create = try await Self.run(["tenant", "create", slug], env: env)
        #expect(create.status == 2)
        #expect(create.stderr.contains("INVALID_SLUG_FORMAT"))
        let list = try await Self.run(["tenant", "list"], env: env)
        #expect(list.stdout.split(separator: "\n").count == 2)  // header + default
    }

    @Test func missingConfigurationIsExplained() async throws {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AUTH_") }
        env["AUTH_ENV"] = "production"
        let result = try await Self.run(["serve"], env: env)
        #expect(result.status == 2)
        #expect(result.stderr.contains("AUTH_DATABASE_URL"))
        #expect(result.stderr.contains("AUTH_SECRET_KEY"))
    }

    @Test func shortSecretRefusesToStartInProduction() async throws {
        let db = try await TestDatabases.shared.migrated()
        let env = Self.environment(db, ["AUTH_ENV": "production", "AUTH_SECRET_KEY": "k1:c2hvcnQ="])
        let result = try await Self.run(["serve"], env: env)
        #expect(result.status == 2)
        #expect(result.stderr.contains("at least 32"))
        #expect(!result.stderr.contains("c2hvcnQ="))  // the secret itself is never echoed
    }

    /// Settings too weak for production refuse to start, each with its reason.
    @Test(arguments: [
        (["AUTH_ARGON2_MEMORY_KIB": "1024", "AUTH_ARGON2_ITERATIONS": "1"], "OWASP"),
        (["AUTH_ARGON2_MEMORY_KIB": "12288", "AUTH_ARGON2_ITERATIONS": "2"], "OWASP"),
        (["AUTH_SQL_HOOK_TIMEOUT_MS": "0"], "AUTH_SQL_HOOK_TIMEOUT_MS"),
        (["AUTH_SQL_HOOK_TIMEOUT_MS": "60001"], "AUTH_SQL_HOOK_TIMEOUT_MS"),
        // Abuse controls (requirement 6): never off in production, never above 100 checks an hour.
        (["AUTH_RATE_LIMITS": "off"], "AUTH_RATE_LIMITS=off is allowed only with AUTH_ENV=development"),
        (["AUTH_PASSWORD_CHECKS_PER_ACCOUNT_HOUR": "101"], "AUTH_PASSWORD_CHECKS_PER_ACCOUNT_HOUR"),
        (["AUTH_RATE_LIMIT_SIGNUP_PER_IP": "lots"], "AUTH_RATE_LIMIT_SIGNUP_PER_IP"),
        (["AUTH_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"], "proxy.internal"),
        (["AUTH_LOCKOUT_SECONDS": "0"], "AUTH_LOCKOUT_SECONDS"),
        (["AUTH_ARGON2_QUEUE": "0"], "AUTH_ARGON2_QUEUE"),
        (["AUTH_TENANT_CACHE_SECONDS": "3601"], "AUTH_TENANT_CACHE_SECONDS"),
    ])
    func weakSettingsRefuseToStart(_ settings: [String: String], _ named: String) async throws {
        let db = try await TestDatabases.shared.migrated()
        let key = "k1:" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let result = try await Self.run(["serve"], env: Self.environment(db, ["AUTH_ENV": "production", "AUTH_SECRET_KEY": key].merging(settings) { $1 }))
        #expect(result.status == 2)
        #expect(result.stderr.contains(named), "\(result.stderr)")
    }

    /// An OWASP-equivalent row other than the default (46 MiB, one pass) is accepted.
    @Test func owaspEquivalentArgon2IsAccepted() async throws {
        let db = try await TestDatabases.shared.migrated()
        let key = "k1:" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let env = Self.environment(
            db, ["AUTH_ENV": "production", "AUTH_SECRET_KEY": key, "AUTH_ARGON2_MEMORY_KIB": "47104", "AUTH_ARGON2_ITERATIONS": "1"])
        // keys list builds the configuration as serve does, then exits.
        let result = try await Self.run(["keys", "list"], env: env)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func serveAnswersReadyAndStopsOnSIGTERM() async throws {
        let db = try await TestDatabases.shared.migrated()
        let port = TestPorts.free()
        let key = "k1:" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = ["serve"]
        process.environment = Self.environment(
            db, ["AUTH_ENV": "production", "AUTH_SECRET_KEY": key, "AUTH_HTTP_PORT": String(port)])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let url = URL(string: "http://127.0.0.1:\(port)/health/ready")!
        let ready = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            guard let (_, response) = try? await URLSession.shared.data(from: url) else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        #expect(ready)
        kill(process.processIdentifier, SIGTERM)
        let exited = try await eventually(timeout: .seconds(15)) { !process.isRunning }
        #expect(exited)
        #expect(process.terminationStatus == 0)
    }
}

/// The seed pages' example hooks, through a real `authd serve --example-hooks`.
@Suite struct SeedExampleTests {
    func post(_ url: URL, _ json: String) async throws -> (Int, String) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        request.httpBody = Data(json.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func underReviewIsBlockedAndProfilesShareTheSignupTransaction() async throws {
        let db = try await TestDatabases.shared.migrated()
        let port = TestPorts.free()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AuthdProcessTests.binary())
        process.arguments = ["serve", "--example-hooks"]
        process.environment = AuthdProcessTests.environment(
            db, ["AUTH_ENV": "development", "AUTH_HTTP_PORT": String(port), "AUTH_ARGON2_MEMORY_KIB": "1024", "AUTH_ARGON2_ITERATIONS": "1"])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let base = "http://127.0.0.1:\(port)"
        let up = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            (try? await URLSession.shared.data(from: URL(string: base + "/health/ready")!)) != nil
        }
        #expect(up)
        let body = #"{"email":"ann@example.com","password":"correct horse battery"}"#
        let (signupStatus, _) = try await post(URL(string: base + "/auth/signup")!, body)
        #expect(signupStatus == 200)
        try await db.withPool(size: 1) { pool in
            let registry = try TestDatabase.registry(pool)
            let tenant = try #require(try await registry.find("default"))
            try await registry.db.inTenant(tenant) { tx in
                let profiles = try await tx.query("SELECT count(*)::int8 AS n FROM app_profiles")
                #expect(try profiles.first?.decode("n", as: Int.self) == 1)
                try await tx.query(#"UPDATE users SET metadata = '{"underReview": true}'"#)
            }
        }
        let (loginStatus, loginBody) = try await post(
            URL(string: base + "/auth/login")!, #"{"credentials":{"email":"ann@example.com","password":"correct horse battery"}}"#)
        #expect(loginStatus == 403)
        #expect(loginBody.contains("ACCOUNT_UNDER_REVIEW"))
        kill(process.processIdentifier, SIGTERM)
        _ = try await eventually(timeout: .seconds(15)) { !process.isRunning }
    }
}

/// `authd listen` as a separate process: killed with SIGKILL mid-stream and restarted, it
/// delivers every event, including those committed while it was down.
@Suite struct ListenProcessTests {
    func startListener(_ db: TestDatabase, type: String, output: URL) throws -> Process {
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AuthdProcessTests.binary())
        process.arguments = ["listen", "--consumer", "log:kill-test", "--subscribe", type, "--start", "oldest", "--lease-seconds", "3"]
        process.environment = AuthdProcessTests.environment(db)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func append(_ pool: PGPool, _ type: String, count: Int) async throws -> [UUID] {
        var ids: [UUID] = []
        for _ in 0..<count {
            ids += try await pool.withTransaction { tx in
                let e = AuthEvent(AuthEvent.Name(rawValue: type), tenantID: nil)
                try await EventOutbox().append(e, in: tx)
                return [e.id]
            }
        }
        return ids
    }

    func delivered(_ files: [URL]) -> Set<String> {
        var ids = Set<String>()
        for file in files {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                if let value = try? JSONValue.parse(String(line)), let id = value["id"]?.stringValue { ids.insert(id) }
            }
        }
        return ids
    }

    @Test func killedListenerCatchesUpAfterRestart() async throws {
        let db = try await TestDatabases.shared.migrated()
        let type = "test.kill.\(UUID().uuidString.prefix(8).lowercased())"
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("authd-listen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let first = dir.appendingPathComponent("first.jsonl"), second = dir.appendingPathComponent("second.jsonl")
        try await db.withPool(size: 2) { pool in
            var ids = try await append(pool, type, count: 150)
            let worker = try startListener(db, type: type, output: first)
            let some = try await eventually(timeout: .seconds(30)) { delivered([first]).count >= 10 }
            #expect(some)
            kill(worker.processIdentifier, SIGKILL)
            while worker.isRunning { try await Task.sleep(for: .milliseconds(20)) }  // never block a pool thread
            // Committed while no listener runs: only the table remembers them.
            ids += try await append(pool, type, count: 50)
            let restarted = try startListener(db, type: type, output: second)
            defer { if restarted.isRunning { kill(restarted.processIdentifier, SIGKILL) } }
            let expected = Set(ids.map { $0.uuidString.lowercased() })
            let all = try await eventually(timeout: .seconds(60)) { delivered([first, second]).isSuperset(of: expected) }
            #expect(all, "missing \(expected.subtracting(delivered([first, second])).count) events")
            let done = try #require(try await pool.query(
                "SELECT count(*) FILTER (WHERE status = 'done')::int8 AS done, count(*)::int8 AS total FROM auth.event_deliveries WHERE group_name = 'kill-test'"
            ).first)
            let allDone = try await eventually(timeout: .seconds(10)) {
                let row = try #require(try await pool.query(
                    "SELECT count(*) FILTER (WHERE status <> 'done')::int8 AS open FROM auth.event_deliveries WHERE group_name = 'kill-test'").first)
                return try row.decode("open", as: Int.self) == 0
            }
            #expect(allDone)
            #expect(try done.decode("total", as: Int.self) == 200)
            kill(restarted.processIdentifier, SIGTERM)
            let stopped = try await eventually(timeout: .seconds(15)) { !restarted.isRunning }
            #expect(stopped)
        }
    }
}

/// Two `authd serve` processes on one database: a logout on one ends the token on the other.
@Suite struct TwoServersTests {
    func serve(_ db: TestDatabase, key: String, port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AuthdProcessTests.binary())
        process.arguments = ["serve"]
        process.environment = AuthdProcessTests.environment(
            db, ["AUTH_ENV": "development", "AUTH_SECRET_KEY": key, "AUTH_HTTP_PORT": String(port),
                 "AUTH_ARGON2_MEMORY_KIB": "1024", "AUTH_ARGON2_ITERATIONS": "1"])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func call(_ url: String, method: String = "GET", body: String? = nil, bearer: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "content-type")
        }
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func logoutOnOneServerEndsTheTokenOnTheOther() async throws {
        let db = try await TestDatabases.shared.migrated()
        let key = "k1:" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let (portA, portB) = (TestPorts.free(), TestPorts.free())
        let a = try serve(db, key: key, port: portA)
        defer { if a.isRunning { a.terminate() } }
        // B starts after A created the signing key, so both use it.
        let upA = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            (try? await call("http://127.0.0.1:\(portA)/health/ready"))?.0 == 200
        }
        #expect(upA)
        let b = try serve(db, key: key, port: portB)
        defer { if b.isRunning { b.terminate() } }
        let upB = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            (try? await call("http://127.0.0.1:\(portB)/health/ready"))?.0 == 200
        }
        #expect(upB)
        // B's revocation listener is subscribed (and has read the table) before the logout, so
        // the logout reaches it as a broadcast, not through its catch-up read.
        let syncedB = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            (try? await call("http://127.0.0.1:\(portB)/metrics"))?.1.contains("authd_revocation_set_in_sync 1") == true
        }
        #expect(syncedB)
        let (_, signup) = try await call(
            "http://127.0.0.1:\(portA)/auth/signup", method: "POST", body: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
        let token = try #require(try JSONValue.parse(signup)["accessToken"]?.stringValue)
        #expect(try await call("http://127.0.0.1:\(portB)/auth/me", bearer: token).0 == 200)
        #expect(try await call("http://127.0.0.1:\(portA)/auth/logout", method: "POST", bearer: token).0 == 200)
        let refused = try await eventually(timeout: .seconds(10), interval: .milliseconds(10)) {
            try await call("http://127.0.0.1:\(portB)/auth/me", bearer: token).0 == 401
        }
        #expect(refused)
        // The metrics of each side say what happened there.
        let (_, metricsA) = try await call("http://127.0.0.1:\(portA)/metrics")
        #expect(metricsA.contains("authd_signups_total 1"), "\(metricsA)")
        #expect(metricsA.contains("authd_sessions_revoked_total 1"))
        // A sends the NOTIFY after its COMMIT, from a queue: on a loaded machine B's periodic
        // re-read of the table can refuse the token first. The broadcast must still arrive.
        let broadcastB = try await eventually(timeout: .seconds(10), interval: .milliseconds(50)) {
            (try? await call("http://127.0.0.1:\(portB)/metrics"))?.1.contains("authd_revocations_received_total 1") == true
        }
        #expect(broadcastB)
        let (_, metricsB) = try await call("http://127.0.0.1:\(portB)/metrics")
        #expect(metricsB.contains(#"authd_guard_lookups_total{source="database"} 1"#), "\(metricsB)")
    }

    /// `AUTH_METRICS_PORT` moves `/metrics` off the public port.
    @Test func metricsOnAPortOfTheirOwn() async throws {
        let db = try await TestDatabases.shared.migrated()
        let key = "k1:" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let port = TestPorts.free(), metricsPort = TestPorts.free()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AuthdProcessTests.binary())
        process.arguments = ["serve"]
        process.environment = AuthdProcessTests.environment(
            db, ["AUTH_ENV": "development", "AUTH_SECRET_KEY": key, "AUTH_HTTP_PORT": String(port), "AUTH_METRICS_PORT": String(metricsPort),
                 "AUTH_ARGON2_MEMORY_KIB": "1024", "AUTH_ARGON2_ITERATIONS": "1"])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let up = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            let metrics = (try? await call("http://127.0.0.1:\(metricsPort)/metrics"))?.0
            let ready = (try? await call("http://127.0.0.1:\(port)/health/ready"))?.0
            return metrics == 200 && ready == 200
        }
        #expect(up)
        _ = try await call(
            "http://127.0.0.1:\(port)/auth/signup", method: "POST", body: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
        let (wrong, _) = try await call(
            "http://127.0.0.1:\(port)/auth/login", method: "POST", body: #"{"credentials":{"email":"ann@example.com","password":"wrong horse battery"}}"#)
        #expect(wrong == 401)
        #expect(try await call("http://127.0.0.1:\(port)/metrics").0 == 404)
        let (status, text) = try await call("http://127.0.0.1:\(metricsPort)/metrics")
        #expect(status == 200)
        #expect(text.contains(#"authd_logins_total{result="failure"} 1"#), "\(text)")
        #expect(text.contains(#"authd_http_requests_total{status="4xx"}"#))
        #expect(!text.contains("correct horse"), "no secret in metrics")
        // The pool's own counters: the tenant's work met its home connections, and ran statements.
        func value(_ series: String) -> Double {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) } ?? 0
        }
        #expect(value(#"authd_pg_leases_total{connection="home"}"#) > 0, "\(text)")
        #expect(value(#"authd_pg_statements_total{plan="unnamed"}"#) + value(#"authd_pg_statements_total{plan="prepared"}"#) > 0)
        // The signup read the default tenant from the registry; the login looked it up again
        // (from the cache unless more than its 5 s had passed: not asserted, no clock race).
        let fromRegistry = value(#"authd_tenant_lookups_total{source="database"}"#)
        #expect(fromRegistry >= 1)
        #expect(fromRegistry + value(#"authd_tenant_lookups_total{source="memory"}"#) >= 2)
    }
}

/// A keyring that lost the key the signing keys were sealed with is explained, not crashed on.
@Suite struct KeyringMismatchTests {
    @Test func serveExplainsAMissingKeyringKey() async throws {
        let db = try await TestDatabases.shared.migrated()
        func key(_ id: String) -> String { "\(id):" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }
        let first = key("k1")
        // Create the signing key under k1 (keys list loads or creates nothing; rotate creates).
        let rotate = try await AuthdProcessTests.run(
            ["keys", "rotate"], env: AuthdProcessTests.environment(db, ["AUTH_SECRET_KEY": first, "AUTH_ENV": "production"]))
        #expect(rotate.status == 0, "\(rotate.stderr)")
        // Now serve with a ring that no longer holds k1.
        let serve = try await AuthdProcessTests.run(
            ["keys", "list"], env: AuthdProcessTests.environment(db, ["AUTH_SECRET_KEY": key("k2"), "AUTH_ENV": "production"]))
        #expect(serve.status == 2)
        #expect(serve.stderr.contains("'k1'"))
        #expect(serve.stderr.contains("keep old keys"))
        // Same id, other material: refused with the generic explanation.
        let wrong = try await AuthdProcessTests.run(
            ["keys", "list"], env: AuthdProcessTests.environment(db, ["AUTH_SECRET_KEY": key("k1"), "AUTH_ENV": "production"]))
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("could not be opened"))
    }
}
