#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import AsyncHTTPClient
import AuthCrypto
import PGKit

/// The core flows over HTTP against a real `authd serve` in its own process, each beside the
/// baseline the issue names: argon2's ceiling, pgbench's bare refresh transaction, a bare route.
struct HTTPBench: Sendable {
    let conninfo: String
    let authd: String
    let selfPath: String
    let pgbin: String?
    let seconds: Double

    /// `argon2Measured`: hashes/s with every core hashing at once (memory bandwidth makes it lower
    /// than the ceiling); what a login-bound server can reach at best.
    func run(argon2Ceiling: Double, argon2Measured: Double) async throws -> [BenchRow] {
        let port = ServerProcess.freePort()
        var env = ProcessInfo.processInfo.environment
        env["AUTH_DATABASE_URL"] = conninfo
        env["AUTH_ENV"] = "production"
        env["AUTH_SECRET_KEY"] = "bench:" + Base64.encode(try SecureRandom.bytes(32))
        env["AUTH_HTTP_PORT"] = String(port)
        env["AUTH_LOG_LEVEL"] = "error"
        env["AUTH_MAX_SESSIONS_PER_USER"] = "1000"
        // One loopback address drives every row: its own limits are lifted (the statement that
        // checks them still runs), and the abuse row names its many clients through
        // X-Forwarded-For from this trusted proxy.
        env["AUTH_RATE_LIMIT_LOGIN_PER_IP"] = "1000000/1s"
        env["AUTH_RATE_LIMIT_SIGNUP_PER_IP"] = "1000000/1s"
        env["AUTH_RATE_LIMIT_FORGOT_PASSWORD_PER_IP"] = "1000000/1s"
        env["AUTH_TRUSTED_PROXIES"] = "127.0.0.1, ::1"
        if let size = env["AUTH_BENCH_POOL_SIZE"] { env["AUTH_DATABASE_POOL_SIZE"] = size }
        let server = try ServerProcess(executable: authd, arguments: ["serve"], environment: env, port: port)
        defer { server.stop() }
        // AsyncHTTPClient opens at most 8 connections per host by default: raise it, or the
        // 16-worker rows would really run 8 at a time.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var rows: [BenchRow] = []
        do {
            try await server.waitReady(client, path: "/health/ready")
            try await Task.sleep(for: .seconds(1))
            rows.append(BenchRow(name: "authd RSS idle", value: "\(BenchTable.f(server.rssMiB)) MiB", note: "target < 50 MiB"))
            let driver = LoadDriver(client: client, base: "http://127.0.0.1:\(port)")
            let password = "bench password \(Int.random(in: 0..<1_000_000))"
            let run = UUID().uuidString.prefix(8).lowercased()

            var cpu = CPUShare(server: server)
            let signups = try await driver.run(concurrency: 8, seconds: seconds) { w, i in
                let (status, _) = try await driver.post("/auth/signup", #"{"email":"s\#(run)-\#(w)-\#(i)@bench.test","password":"\#(password)"}"#)
                return status == 200
            }
            let signupCPU = cpu.next(ops: signups.ok)
            rows.append(BenchRow(
                name: "signups/s (8 concurrent)", value: BenchTable.f(signups.perSecond),
                note: "× \(BenchTable.f(signups.perSecond / argon2Ceiling, 2)) argon2 ceiling, × \(BenchTable.f(signups.perSecond / argon2Measured, 2)) measured; p50 \(BenchTable.f(signups.p50ms)) ms, p99 \(BenchTable.f(signups.p99ms)) ms; \(signups.failed) failed; \(signupCPU)"))

            // Every login opens a session: their refresh tokens feed the refresh row.
            let sessions = Shared([String]())
            let accessToken = Shared("")
            // Spread over the accounts: each may be checked only 100 times an hour.
            let accountsPerWorker = max(3, signups.ok / 8 - 1)
            let logins = try await driver.run(concurrency: 8, seconds: seconds) { w, i in
                let (status, body) = try await driver.post(
                    "/auth/login", #"{"credentials":{"email":"s\#(run)-\#(w)-\#(i % accountsPerWorker)@bench.test","password":"\#(password)"}}"#)
                if let refresh = body["refreshToken"] as? String, let access = body["accessToken"] as? String {
                    sessions.update { $0.append(refresh) }
                    accessToken.update { $0 = access }
                }
                return status == 200
            }
            let loginCPU = cpu.next(ops: logins.ok)
            rows.append(BenchRow(
                name: "logins/s (8 concurrent)", value: BenchTable.f(logins.perSecond),
                note: "× \(BenchTable.f(logins.perSecond / argon2Ceiling, 2)) argon2 ceiling (target ≥ 0.85), × \(BenchTable.f(logins.perSecond / argon2Measured, 2)) authd's hasher on all cores; p50 \(BenchTable.f(logins.p50ms)) ms, p99 \(BenchTable.f(logins.p99ms)) ms; \(loginCPU)"))

            rows += try await AbuseBench(driver: driver, conninfo: conninfo, run: run, password: password, seconds: seconds)
                .rows(accounts: signups.ok)

            // 16 connections, each cycling through its share of the login row's sessions with
            // each session's newest token; pgbench then runs the bare transaction on the same rows.
            // Half the sessions refresh with no consumer running, the other half while `authd
            // listen` drains the refresh events (a rotated token cannot be sent twice).
            let workers = 16
            let tokens = sessions.current
            let half = tokens.count / 2
            let access = accessToken.current
            _ = cpu.next(ops: 0)
            var refreshed: Double = 0
            if let wrk = RefreshLoad.locate() {
                let load = RefreshLoad(wrk: wrk, url: "http://127.0.0.1:\(port)/auth/refresh-token", seconds: seconds)
                let quiet = try load.run(tokens: Array(tokens[..<half]), connections: workers)
                refreshed = quiet.perSecond
                rows.append(BenchRow(
                    name: "refreshes/s (wrk, 16 conns, \(half) sessions)", value: BenchTable.f(quiet.perSecond),
                    note: "no consumer; p50 \(quiet.p50), p99 \(quiet.p99); \(quiet.non2xx) non-2xx; \(cpu.next(ops: Int(quiet.perSecond * seconds))); wrk \(BenchTable.f(quiet.driverCPU, 0))%"))
                let listener = try EventsBench.Listener(
                    authd: authd, conninfo: conninfo, group: "bench-refresh-\(run)", type: "auth.refresh_token", wallClock: true, start: "now")
                defer { listener.stop() }
                try await Task.sleep(for: .seconds(2))  // it connects and creates its group (from now on)
                let flowing = try load.run(tokens: Array(tokens[half...]), connections: workers)
                rows.append(BenchRow(
                    name: "refreshes/s while authd listen drains the events", value: BenchTable.f(flowing.perSecond),
                    note: "× \(BenchTable.f(flowing.perSecond / max(quiet.perSecond, 1), 2)) of the row above; p50 \(flowing.p50), p99 \(flowing.p99); \(flowing.non2xx) non-2xx"))
                try await Task.sleep(for: .seconds(2))
                rows.append(try await eventLatency(listener.seen.current, rate: flowing.perSecond, group: "bench-refresh-\(run)"))
            } else {
                let holder = Shared(Array(tokens.prefix(workers)))
                let r = try await driver.run(concurrency: min(workers, tokens.count), seconds: seconds) { w, _ in
                    let (status, body) = try await driver.post("/auth/refresh-token", #"{"refreshToken":"\#(holder.current[w])"}"#)
                    if let next = body["refreshToken"] as? String { holder.update { $0[w] = next } }
                    return status == 200
                }
                refreshed = r.perSecond
                rows.append(BenchRow(
                    name: "refreshes/s (Swift driver, 16 sessions; no wrk)", value: BenchTable.f(r.perSecond),
                    note: "p50 \(BenchTable.f(r.p50ms)) ms, p99 \(BenchTable.f(r.p99ms)) ms; \(r.failed) failed; \(cpu.next(ops: r.ok))"))
            }
            let sessionIDs = tokens.compactMap { t -> String? in
                let parts = t.split(separator: ".")
                return parts.count == 7 ? String(parts[3]) : nil
            }
            if let pgbench = try await pgbenchRefresh(clients: workers, sessionHex: sessionIDs, outbox: true) {
                rows.append(BenchRow(
                    name: "pgbench: bare refresh transaction (16 clients)", value: BenchTable.f(pgbench),
                    note: "same sessions; lock row, rotate, insert outbox row; authd × \(BenchTable.f(refreshed / pgbench, 2)) (target ≥ 0.6)"))
                if let bare = try await pgbenchRefresh(clients: workers, sessionHex: sessionIDs, outbox: false) {
                    rows.append(BenchRow(
                        name: "pgbench: the same without the outbox row", value: BenchTable.f(bare),
                        note: "the outbox row costs the database × \(BenchTable.f(pgbench / bare, 2)) of this rate"))
                }
            }
            rows.append(try await revocationDelay(env: env, client: client, serverA: port, password: password, run: run))

            var rssUnderLoad = 0.0
            let me = try await wrk(url: "http://127.0.0.1:\(port)/auth/me", bearer: access) { rssUnderLoad = max(rssUnderLoad, server.rssMiB) }
            let barePort = ServerProcess.freePort()
            let bare = try ServerProcess(executable: selfPath, arguments: ["--serve-bare", String(barePort)], environment: env, port: barePort)
            defer { bare.stop() }
            try await bare.waitReady(client, path: "/bare")
            let bareResult = try await wrk(url: "http://127.0.0.1:\(barePort)/bare", bearer: nil) {}
            if let me, let bareResult {
                rows.append(BenchRow(
                    name: "GET /auth/me (wrk, 2 threads, 32 conns)", value: "\(Int(me.rps))/s",
                    note: "× \(BenchTable.f(me.rps / bareResult.rps, 2)) bare route; p50 \(me.p50), p99 \(me.p99)"))
                rows.append(BenchRow(name: "GET bare Hummingbird route (same load)", value: "\(Int(bareResult.rps))/s", note: "p50 \(bareResult.p50), p99 \(bareResult.p99)"))
                // The example backend: the token verified in its own process (signature, claims,
                // revocation set), no request to authd or the database per call.
                let notesPort = ServerProcess.freePort()
                let notes = try ServerProcess(
                    executable: selfPath, arguments: ["--serve-notes", String(notesPort), "http://127.0.0.1:\(port)"], environment: env,
                    port: notesPort)
                defer { notes.stop() }
                try await notes.waitReady(client, path: "/health")
                // Ready once its revocation list is in sync: 503 until then.
                var synced = false
                for _ in 0..<200 where !synced {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(notesPort)/notes")
                    request.headers.add(name: "authorization", value: "Bearer \(access)")
                    synced = (try? await client.execute(request, timeout: .seconds(2)))?.status == .ok
                    if !synced { try await Task.sleep(for: .milliseconds(100)) }
                }
                if synced, let verified = try await wrk(url: "http://127.0.0.1:\(notesPort)/notes", bearer: access, sample: {}) {
                    rows.append(BenchRow(
                        name: "GET /notes through AuthClient's middleware (Examples/notes-api)", value: "\(Int(verified.rps))/s",
                        note: "× \(BenchTable.f(verified.rps / bareResult.rps, 2)) bare route; p50 \(verified.p50), p99 \(verified.p99)"))
                    rows.append(try await revocationDelay(
                        client: client, serverA: port, refusedOn: "http://127.0.0.1:\(notesPort)", path: "/notes", password: password, run: run,
                        name: "revocation: logout on authd → token refused by the example backend", what: "authd serve + notes-api (AuthClient)"))
                } else {
                    rows.append(BenchRow(name: "GET /notes through AuthClient's middleware", value: "n/a", note: "the example backend never answered 200"))
                }
            } else {
                rows.append(BenchRow(name: "GET /auth/me", value: "n/a", note: "wrk not installed"))
            }
            rows.append(BenchRow(name: "authd RSS under load (max sampled)", value: "\(BenchTable.f(rssUnderLoad)) MiB"))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return rows
    }

    /// Commit → handler for the refresh events: the wall time the listener's line was read minus
    /// the event's `occurred_at` (the refresh statement's start, so its COMMIT is included), read
    /// back from the database with microseconds.
    func eventLatency(_ seen: [String: Double], rate: Double, group: String) async throws -> BenchRow {
        let pool = PGPool(.init(conninfo: conninfo, size: 1))
        let ids = Array(seen.keys)
        var latencies: [Double] = []
        // Where the time goes: the event's statement → the consumer pass that took it (that
        // pass's transaction start) → marked done.
        var stages = ""
        do {
            if let row = try await pool.query(
                """
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.created_at - e.occurred_at)) * 1000 AS taken,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.done_at - d.created_at)) * 1000 AS done
                FROM auth.event_deliveries d JOIN auth.events e ON e.id = d.event_id WHERE d.group_name = $1
                """, group
            ).first {
                stages = "; medians: commit → taken by a pass \(BenchTable.f(try row.decode("taken", as: Double?.self) ?? .nan, 2)) ms, → done \(BenchTable.f(try row.decode("done", as: Double?.self) ?? .nan, 2)) ms later"
            }
            for chunk in stride(from: 0, to: ids.count, by: 5000).map({ Array(ids[$0..<min($0 + 5000, ids.count)]) }) {
                let rows = try await pool.query(
                    "SELECT id::text AS id, extract(epoch FROM occurred_at)::float8 AS t FROM auth.events WHERE id = ANY($1::uuid[])", chunk)
                for row in rows {
                    let id: String = try row.decode("id")
                    let t: Double = try row.decode("t")
                    if let read = seen[id] { latencies.append((read - t) * 1000) }
                }
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
        latencies.sort()
        return BenchRow(
            name: "events: commit → handler during that load", value: "p50 \(BenchTable.f(percentile(latencies, 0.5), 2)) ms",
            note: "p99 \(BenchTable.f(percentile(latencies, 0.99), 2)) ms over \(latencies.count) refresh events at ~\(Int(rate))/s; targets p50 < 2, p99 < 10\(stages)")
    }

    /// A second `authd serve` on the same database: a session's token is served from B's memory,
    /// the session is logged out on A, and B is polled until it refuses the token.
    func revocationDelay(env: [String: String], client: HTTPClient, serverA: Int, password: String, run: String) async throws -> BenchRow {
        let portB = ServerProcess.freePort()
        var envB = env
        envB["AUTH_HTTP_PORT"] = String(portB)
        let b = try ServerProcess(executable: authd, arguments: ["serve"], environment: envB, port: portB)
        defer { b.stop() }
        try await b.waitReady(client, path: "/health/ready")
        return try await revocationDelay(
            client: client, serverA: serverA, refusedOn: "http://127.0.0.1:\(portB)", path: "/auth/me", password: password, run: run,
            name: "revocation: logout on A → token refused by B", what: "two authd serve processes")
    }

    /// Logs in on authd (A), checks the token works on `refusedOn`, logs out on A, and times
    /// until `refusedOn` answers 401 — for 100 sessions.
    func revocationDelay(
        client: HTTPClient, serverA: Int, refusedOn: String, path: String, password: String, run: String, name: String, what: String
    ) async throws -> BenchRow {
        let a = LoadDriver(client: client, base: "http://127.0.0.1:\(serverA)")
        let onB = LoadDriver(client: client, base: refusedOn)
        // Accounts of its own, five logins each: an account's password checks are limited to
        // ten at once (then spread over the hour), and the earlier rows used theirs.
        let prefix = "r\(run)-\(UUID().uuidString.prefix(6).lowercased())"
        for k in 0..<20 {
            _ = try? await a.post("/auth/signup", #"{"email":"\#(prefix)-\#(k)@bench.test","password":"\#(password)"}"#)
        }
        var delays: [Double] = []
        for i in 0..<100 {
            let (_, body) = try await a.post(
                "/auth/login", #"{"credentials":{"email":"\#(prefix)-\#(i % 20)@bench.test","password":"\#(password)"}}"#)
            guard let token = body["accessToken"] as? String else { continue }
            guard try await onB.get(path, bearer: token) == 200 else { continue }
            let (status, _) = try await a.post("/auth/logout", "{}", bearer: token)
            guard status == 200 else { continue }
            let t0 = ContinuousClock.now
            while try await onB.get(path, bearer: token) != 401, elapsed(since: t0) < 5 {}
            delays.append(elapsed(since: t0) * 1000)
        }
        delays.sort()
        return BenchRow(
            name: name, value: "p50 \(BenchTable.f(percentile(delays, 0.5), 2)) ms",
            note: "p99 \(BenchTable.f(percentile(delays, 0.99), 2)) ms over \(delays.count) sessions, \(what) (target p99 < 100 ms)")
    }

    struct WrkResult {
        var rps: Double
        var p50: String
        var p99: String
    }

    /// Runs wrk for `seconds`, sampling while it runs; nil when wrk is missing.
    func wrk(url: String, bearer: String?, sample: () -> Void) async throws -> WrkResult? {
        guard let wrk = RefreshLoad.locate() else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: wrk)
        var args = ["-t2", "-c32", "-d\(Int(seconds))s", "--latency"]
        if let bearer { args += ["-H", "Authorization: Bearer \(bearer)"] }
        p.arguments = args + [url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        while p.isRunning {
            sample()
            try await Task.sleep(for: .milliseconds(250))
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let field = { RefreshLoad.field($0, in: text) }
        let non2xx = text.contains("Non-2xx") ? " (non-2xx answers!)" : ""
        return WrkResult(rps: Double(field("Requests/sec:") ?? "") ?? 0, p50: (field("50%") ?? "?") + non2xx, p99: field("99%") ?? "?")
    }

    /// pgbench running the bare refresh transaction on the same sessions; nil without pgbench.
    func pgbenchRefresh(clients: Int, sessionHex: [String], outbox: Bool) async throws -> Double? {
        guard let pgbin, FileManager.default.isExecutableFile(atPath: pgbin + "/pgbench") else { return nil }
        let pool = PGPool(.init(conninfo: conninfo, size: 1))
        let tenant = try await pool.query("SELECT id, schema_name FROM auth.tenants WHERE slug = 'default'")
        guard let row = tenant.first else { return nil }
        let schema: String = try row.decode("schema_name")
        let tenantID: UUID = try row.decode("id")
        try await pool.query("DROP TABLE IF EXISTS \(schema).bench_sessions")
        try await pool.query(
            "CREATE TABLE \(schema).bench_sessions AS SELECT row_number() OVER () AS n, id FROM \(schema).sessions WHERE id = ANY($1::uuid[])",
            sessionHex)
        let count = try await pool.query("SELECT count(*)::int8 AS n FROM \(schema).bench_sessions").first?.decode("n", as: Int.self) ?? 0
        await pool.shutdown()
        guard count > 0 else { return nil }
        let script = """
            \\set n random(1, \(count))
            BEGIN;
            SELECT refresh_generation FROM \(schema).sessions WHERE id = (SELECT id FROM \(schema).bench_sessions WHERE n = :n) FOR UPDATE;
            UPDATE \(schema).sessions SET refresh_generation = refresh_generation + 1, previous_refresh_digest = refresh_digest, refresh_digest = sha256(random()::text::bytea), sealed_refresh = sha256(random()::text::bytea), rotated_at = now(), last_active_at = now() WHERE id = (SELECT id FROM \(schema).bench_sessions WHERE n = :n);
            \(outbox ? "INSERT INTO auth.events (id, type, tenant_id, subject, data) VALUES (gen_random_uuid(), 'bench.refresh', '\(tenantID.uuidString.lowercased())', '{}', '{}');" : "")
            END;

            """
        let file = NSTemporaryDirectory() + "authd-bench-refresh-\(getpid()).sql"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: pgbin + "/pgbench")
        // -t, not -T: pgbench's -T relies on SIGALRM, which a child of this (NIO) process may
        // inherit blocked. 400 transactions per client is a few seconds here.
        p.arguments = ["-n", "-c", String(clients), "-j", "2", "-t", "400", "-f", file, conninfo]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let line = text.split(separator: "\n").first { $0.hasPrefix("tps =") }
        return line.flatMap { Double($0.split(separator: " ")[2]) }
    }
}


/// CPU time spent by authd and by this driver process between two marks, per operation, so a
/// row shows where the two cores went.
struct CPUShare {
    let server: ServerProcess
    var lastServer: Double
    var lastDriver: Double
    var lastWall: ContinuousClock.Instant

    init(server: ServerProcess) {
        self.server = server
        lastServer = server.cpuSeconds
        lastDriver = ServerProcess.cpuSeconds(pid: getpid())
        lastWall = .now
    }

    mutating func next(ops: Int) -> String {
        let s = server.cpuSeconds, d = ServerProcess.cpuSeconds(pid: getpid())
        let wall = elapsed(since: lastWall)
        defer { lastServer = s; lastDriver = d; lastWall = .now }
        let n = Double(max(ops, 1))
        return "CPU: authd \(BenchTable.f((s - lastServer) / wall * 100, 0))% (\(BenchTable.f((s - lastServer) / n * 1000, 2)) ms/op), "
            + "driver \(BenchTable.f((d - lastDriver) / wall * 100, 0))% of one core"
    }
}
