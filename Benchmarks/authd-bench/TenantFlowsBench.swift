#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import AsyncHTTPClient
import AuthCrypto
import Foundation

/// Refresh and `/auth/me` over sessions spread across many tenants, against the same number of
/// sessions in one tenant (issue 21 item 3), each pass cold — a freshly started `authd serve`
/// (empty tenant directory and principal cache, new database connections whose server processes
/// have not yet seen the tenants' tables) — and then warm.
struct TenantFlowsBench: Sendable {
    let conninfo: String
    let authd: String
    let slugs: [String]

    struct Session: Sendable {
        var access: String
        var refresh: String
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
        var server = try start(key: key, client: client)
        var spread = try await signups(client, server, password: password, tenants: slugs)
        var single = try await signups(client, server, password: password, tenants: Array(repeating: "default", count: slugs.count))
        server.process.stop()

        var rows: [BenchRow] = []
        for (label, flow) in [("refresh", true), ("GET /auth/me", false)] {
            var rates: [String: (cold: Double, warm: Double)] = [:]
            for (name, sessions) in [("1 tenant", single), ("\(slugs.count) tenants", spread)] {
                // A fresh process: every cache and database connection starts cold.
                server = try start(key: key, client: client)
                try await server.process.waitReady(client, path: "/health/ready")
                var current = sessions
                let cold = try await pass(client, server, &current, refresh: flow)
                let warm = try await pass(client, server, &current, refresh: flow)
                server.process.stop()
                rates[name] = (cold, warm)
                if name == "1 tenant" { single = current } else { spread = current }
            }
            guard let one = rates["1 tenant"], let many = rates["\(slugs.count) tenants"] else { continue }
            rows.append(BenchRow(
                name: "\(label), \(slugs.count) sessions in 1 tenant: cold · warm", value: "\(Int(one.cold)) · \(Int(one.warm))/s",
                note: "16 concurrent, each session once per pass"))
            rows.append(BenchRow(
                name: "\(label), one session in each of \(slugs.count) tenants: cold · warm", value: "\(Int(many.cold)) · \(Int(many.warm))/s",
                note: "× \(BenchTable.f(many.cold / one.cold, 2)) cold, × \(BenchTable.f(many.warm / one.warm, 2)) warm of 1 tenant (target ≥ 0.9)"))
        }
        return rows
    }

    struct Server {
        let process: ServerProcess
        let base: String
    }

    private func start(key: String, client: HTTPClient) throws -> Server {
        let port = ServerProcess.freePort()
        var env = ProcessInfo.processInfo.environment
        env["AUTH_DATABASE_URL"] = conninfo
        env["AUTH_ENV"] = "development"
        env["AUTH_SECRET_KEY"] = key
        env["AUTH_HTTP_PORT"] = String(port)
        env["AUTH_LOG_LEVEL"] = "error"
        env["AUTH_RATE_LIMITS"] = "off"
        // Cheap hashes: these rows are about tenants, not argon2.
        env["AUTH_ARGON2_MEMORY_KIB"] = "1024"
        env["AUTH_ARGON2_ITERATIONS"] = "1"
        let process = try ServerProcess(executable: authd, arguments: ["serve"], environment: env, port: port)
        return Server(process: process, base: "http://127.0.0.1:\(port)")
    }

    private func signups(_ client: HTTPClient, _ server: Server, password: String, tenants: [String]) async throws -> [Session] {
        try await server.process.waitReady(client, path: "/health/ready")
        let driver = LoadDriver(client: client, base: server.base)
        let run = UUID().uuidString.prefix(6).lowercased()
        return try await forEach(Array(tenants.enumerated()), concurrency: 8) { item in
            let (i, slug) = item
            let (status, body) = try await driver.post(
                "/auth/signup", #"{"email":"t\#(run)-\#(i)@bench.test","password":"\#(password)","tenantId":"\#(slug)"}"#)
            guard status == 200, let access = body["accessToken"] as? String, let refresh = body["refreshToken"] as? String else {
                throw BenchError("signup in tenant \(slug) answered \(status)")
            }
            return Session(access: access, refresh: refresh)
        }
    }

    /// Every session once (refresh, or `/auth/me`), 16 at a time; requests per second.
    private func pass(_ client: HTTPClient, _ server: Server, _ sessions: inout [Session], refresh: Bool) async throws -> Double {
        let driver = LoadDriver(client: client, base: server.base)
        let start = ContinuousClock.now
        sessions = try await forEach(sessions, concurrency: 16) { session in
            if refresh {
                let (status, body) = try await driver.post("/auth/refresh-token", #"{"refreshToken":"\#(session.refresh)"}"#)
                guard status == 200, let access = body["accessToken"] as? String, let next = body["refreshToken"] as? String else {
                    throw BenchError("refresh answered \(status)")
                }
                return Session(access: access, refresh: next)
            }
            let status = try await driver.get("/auth/me", bearer: session.access)
            guard status == 200 else { throw BenchError("/auth/me answered \(status)") }
            return session
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
