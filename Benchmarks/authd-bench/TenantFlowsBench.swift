#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import AsyncHTTPClient
import AuthCrypto
import PGKit
import Foundation

/// Login, refresh and `/auth/me` over accounts spread across many tenants, against the same
/// number in one tenant (issue 21 item 3), each pass cold — a freshly started `authd serve`
/// (empty tenant directory and principal cache, new database connections whose server processes
/// have not yet seen the tenants' tables) — and then warm.
struct TenantFlowsBench: Sendable {
    let conninfo: String
    let authd: String
    let slugs: [String]

    struct Session: Sendable {
        var access: String
        var refresh: String
        let email: String
        let tenant: String
    }

    enum Flow: String, CaseIterable {
        case login = "login"
        case refresh = "refresh"
        case me = "GET /auth/me"
    }

    func run() async throws -> [BenchRow] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let rows = try await measure(client)
            try? await client.shutdown()
            return rows
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func measure(_ client: HTTPClient) async throws -> [BenchRow] {
        let key = "bench:" + Base64.encode(try SecureRandom.bytes(32))
        let password = "bench password \(Int.random(in: 0..<1_000_000))"

        // One user per tenant, and as many in the default tenant.
        let server = try start(key: key, client: client)
        var spread = try await signups(client, server, password: password, tenants: slugs)
        var single = try await signups(client, server, password: password, tenants: Array(repeating: "default", count: slugs.count))
        server.process.stop()

        // CPU and WAL sampling; full-page images need pg_walinspect (contrib, superuser here).
        let probe = try PGConnection(conninfo: conninfo)
        let inspectsWAL = (try? probe.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")) != nil

        var rows: [BenchRow] = []
        for flow in Flow.allCases {
            let label = flow.rawValue
            // Two fresh processes, one per side (every cache and database connection starts
            // cold), whose passes alternate: this shared VM's speed drifts by tens of percent
            // within minutes, and interleaving puts both sides in the same minutes.
            let sides = [("1 tenant", "1"), ("\(slugs.count) tenants", "n")]
            var servers: [Server] = []
            defer { for server in servers { server.process.stop() } }
            for (_, tag) in sides { servers.append(try start(key: key, client: client, side: tag)) }
            for server in servers { try await server.process.waitReady(client, path: "/health/ready") }
            var sessions = [single, spread]
            var passes: [[Double]] = [[], []]
            var before: [[String: Double]] = [[:], [:]]
            var after: [[String: Double]] = [[:], [:]]
            // A checkpoint now, so the next one (`checkpoint_timeout` on, 5 min here, unless
            // `max_wal_size` fills first) falls after this flow's passes at 1000 tenants: the
            // first write to each page after a checkpoint logs the whole page, many more pages
            // over many tenants, and one landing among the averaged passes swung a side's WAL
            // per request threefold. The cold passes pay those images; the warm ones run between
            // checkpoints, as most of a deployment's minutes do (deploy/SCALING.md).
            _ = try? probe.execute("CHECKPOINT")
            var costs = [PassCost(), PassCost()]
            if !inspectsWAL { for side in costs.indices { costs[side].fullPageBytes = nil } }
            // Pass 0 is cold. Warm: the last passes of several. Each database server process
            // keeps its caches (plans, relations, the tenant's audit writer) per tenant, and a
            // tenant's work meets its home connection often but not always, so a second pass
            // is not yet the steady state a deployment runs in.
            for i in 0...warmPasses {
                // Which side goes first alternates, so neither always runs second.
                for side in (i % 2 == 0 ? [0, 1] : [1, 0]) {
                    // The pool's counters over the passes the warm figure averages. Not the last
                    // alone: a tenant cache entry lives a fixed time from its read, so with every
                    // tenant once per pass whole passes fall in its hit or its miss phase.
                    let driver = LoadDriver(client: client, base: servers[side].base)
                    let counted = i > warmPasses - averaged
                    if i == warmPasses - averaged + 1 { before[side] = try await driver.metrics() }
                    let application = Self.applicationName + "-" + sides[side].1
                    let pid = servers[side].process.process.processIdentifier
                    let start = counted ? try PassCost.sample(probe, authd: pid, application: application) : nil
                    passes[side].append(try await pass(client, servers[side], &sessions[side], flow: flow, password: password))
                    if let start {
                        let end = try PassCost.sample(probe, authd: pid, application: application)
                        costs[side].add(probe, requests: sessions[side].count, from: start, to: end)
                    }
                    if i == warmPasses { after[side] = try await driver.metrics() }
                }
            }
            var results: [String: (cold: Double, warm: Double, memory: Double, pool: PoolShares, cost: PassCost)] = [:]
            for (side, (name, tag)) in sides.enumerated() {
                let warm = passes[side].dropFirst().suffix(averaged)
                FileHandle.standardError.write(Data(
                    "\(flow.rawValue), \(name): cold \(Int(passes[side][0]))/s, then \(passes[side].dropFirst().map { String(Int($0)) }.joined(separator: " "))\n".utf8))
                let shares = PoolShares(before: before[side], after: after[side])
                results[name] = (passes[side][0], warm.reduce(0, +) / Double(warm.count), try backendMemory(side: tag), shares, costs[side])
            }
            (single, spread) = (sessions[0], sessions[1])
            guard let one = results["1 tenant"], let many = results["\(slugs.count) tenants"] else { continue }
            rows.append(BenchRow(
                name: "\(label), \(slugs.count) sessions in 1 tenant: cold · warm", value: "\(Int(one.cold)) · \(Int(one.warm))/s",
                note: "16 concurrent, each session once per pass; warm: mean of passes \(2 + warmPasses - averaged)–\(1 + warmPasses), alternating with the other side's"))
            rows.append(BenchRow(
                name: "\(label), one session in each of \(slugs.count) tenants: cold · warm", value: "\(Int(many.cold)) · \(Int(many.warm))/s",
                note: "× \(BenchTable.f(many.cold / one.cold, 2)) cold, × \(BenchTable.f(many.warm / one.warm, 2)) warm of 1 tenant (target ≥ 0.9)"))
            rows.append(BenchRow(
                name: "\(label): private memory per database server process after", value: "\(BenchTable.f(one.memory)) · \(BenchTable.f(many.memory)) MiB",
                note: "1 tenant · \(slugs.count) tenants (RssAnon, mean over authd's connections)"))
            rows.append(BenchRow(
                name: "\(label), warm passes, 1 tenant: home leases · statements reused · tenants from cache",
                value: "\(one.pool.homes) · \(one.pool.reused) · \(one.pool.tenantsFromMemory)",
                note: "\(one.pool.prepares) prepared, \(one.pool.deallocated) deallocated over the averaged passes"))
            rows.append(BenchRow(
                name: "\(label), warm passes, \(slugs.count) tenants: home leases · statements reused · tenants from cache",
                value: "\(many.pool.homes) · \(many.pool.reused) · \(many.pool.tenantsFromMemory)",
                note: "\(many.pool.prepares) prepared, \(many.pool.deallocated) deallocated over the averaged passes"))
            rows.append(BenchRow(
                name: "\(label), warm, CPU per request, 1 tenant", value: one.cost.cpuPerRequest,
                note: "authd · its database sessions · PostgreSQL background · bench driver (/proc, averaged passes)"))
            rows.append(BenchRow(
                name: "\(label), warm, CPU per request, \(slugs.count) tenants", value: many.cost.cpuPerRequest,
                note: "the same"))
            rows.append(BenchRow(
                name: "\(label), warm, WAL per request: bytes · full-page images", value: "\(one.cost.walPerRequest) | \(many.cost.walPerRequest)",
                note: "1 tenant | \(slugs.count) tenants (flush LSN around each pass; images by pg_walinspect)"))
        }
        return rows
    }

    /// Passes after the cold one (`AUTH_BENCH_PASSES`), and how many of the last are averaged.
    var warmPasses: Int { max(1, Int(ProcessInfo.processInfo.environment["AUTH_BENCH_PASSES"] ?? "") ?? 7) }
    var averaged: Int { min(3, warmPasses) }

    /// The mean private memory (RssAnon, MiB) of the server processes behind the running authd's
    /// connections: what caching plans and relations per tenant costs the database server.
    private func backendMemory(side: String) throws -> Double {
        let conn = try PGConnection(conninfo: conninfo)
        let pids = try conn.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1", [(Self.applicationName + "-" + side).pgBind])
            .map { try $0.decode("pid", as: Int32.self) }
        let sizes = pids.compactMap { pid -> Double? in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
                  let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
            else { return nil }
            return kib / 1024
        }
        return sizes.isEmpty ? 0 : sizes.reduce(0, +) / Double(sizes.count)
    }

    static let applicationName = "authd-bench-serve"

    struct Server {
        let process: ServerProcess
        let base: String
    }

    /// `side` tags its database connections (`application_name`), so each side's server
    /// processes can be told apart.
    private func start(key: String, client: HTTPClient, side: String = "signup") throws -> Server {
        let port = ServerProcess.freePort()
        var env = ProcessInfo.processInfo.environment
        env["AUTH_DATABASE_URL"] = conninfo + " application_name=\(Self.applicationName)-\(side)"
        // `/metrics` on the main port, where the bench reads the pool's counters.
        env["AUTH_METRICS_PORT"] = nil
        env["AUTH_ENV"] = "development"
        env["AUTH_SECRET_KEY"] = key
        env["AUTH_HTTP_PORT"] = String(port)
        env["AUTH_LOG_LEVEL"] = "error"
        env["AUTH_RATE_LIMITS"] = "off"
        // No DDL from the spare keeper while the flows are measured (it creates no tenants).
        env["AUTH_TENANT_SPARES"] = "0"
        // Cheap hashes: these rows are about tenants, not argon2. `AUTH_BENCH_TENANT_HASH=production`
        // keeps authd's own parameters, to see what the tenant cost is beside a real login's hash.
        if ProcessInfo.processInfo.environment["AUTH_BENCH_TENANT_HASH"] != "production" {
            env["AUTH_ARGON2_MEMORY_KIB"] = "1024"
            env["AUTH_ARGON2_ITERATIONS"] = "1"
        }
        let process = try ServerProcess(executable: authd, arguments: ["serve"], environment: env, port: port)
        return Server(process: process, base: "http://127.0.0.1:\(port)")
    }

    private func signups(_ client: HTTPClient, _ server: Server, password: String, tenants: [String]) async throws -> [Session] {
        try await server.process.waitReady(client, path: "/health/ready")
        let driver = LoadDriver(client: client, base: server.base)
        let run = UUID().uuidString.prefix(6).lowercased()
        return try await forEach(Array(tenants.enumerated()), concurrency: 8) { item in
            let (i, slug) = item
            let email = "t\(run)-\(i)@bench.test"
            let (status, body) = try await driver.post(
                "/auth/signup", #"{"email":"\#(email)","password":"\#(password)","tenantId":"\#(slug)"}"#)
            guard status == 200, let access = body["accessToken"] as? String, let refresh = body["refreshToken"] as? String else {
                throw BenchError("signup in tenant \(slug) answered \(status)")
            }
            return Session(access: access, refresh: refresh, email: email, tenant: slug)
        }
    }

    /// Every account once (a login, or its session's refresh or `/auth/me`), 16 at a time;
    /// requests per second. A login's new session replaces the account's.
    private func pass(_ client: HTTPClient, _ server: Server, _ sessions: inout [Session], flow: Flow, password: String) async throws -> Double {
        let driver = LoadDriver(client: client, base: server.base)
        let start = ContinuousClock.now
        sessions = try await forEach(sessions, concurrency: 16) { session in
            switch flow {
            case .login, .refresh:
                let (path, body) = flow == .login
                    ? ("/auth/login", #"{"credentials":{"email":"\#(session.email)","password":"\#(password)"},"tenantId":"\#(session.tenant)"}"#)
                    : ("/auth/refresh-token", #"{"refreshToken":"\#(session.refresh)"}"#)
                let (status, answer) = try await driver.post(path, body)
                guard status == 200, let access = answer["accessToken"] as? String, let next = answer["refreshToken"] as? String else {
                    throw BenchError("\(flow.rawValue) answered \(status)")
                }
                return Session(access: access, refresh: next, email: session.email, tenant: session.tenant)
            case .me:
                let status = try await driver.get("/auth/me", bearer: session.access)
                guard status == 200 else { throw BenchError("/auth/me answered \(status)") }
                return session
            }
        }
        return Double(sessions.count) / elapsed(since: start)
    }

    /// `body` over `items`, `concurrency` at a time, results in the items' order.
    private func forEach<T: Sendable, R: Sendable>(
        _ items: [T], concurrency: Int, _ body: @escaping @Sendable (T) async throws -> R
    ) async throws -> [R] {
        let next = Shared(0)
        let results = Shared([R?](repeating: nil, count: items.count))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while true {
                        var i = 0
                        next.update { n in
                            i = n
                            n += 1
                        }
                        guard i < items.count else { return }
                        let r = try await body(items[i])
                        results.update { $0[i] = r }
                    }
                }
            }
            try await group.waitForAll()
        }
        return results.current.compactMap { $0 }
    }
}
