#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import AsyncHTTPClient
import NIOCore

/// A small closed-loop HTTP load driver: `concurrency` tasks, each sending its next request as
/// soon as the previous one answered, for `seconds`. Loopback only.
struct LoadDriver: Sendable {
    let client: HTTPClient
    let base: String

    struct Result: Sendable {
        var ok: Int
        var failed: Int
        var seconds: Double
        var latencies: [Double]
        var perSecond: Double { Double(ok) / seconds }
        var p50ms: Double { percentile(latencies, 0.5) * 1000 }
        var p99ms: Double { percentile(latencies, 0.99) * 1000 }
    }

    /// `next(worker, i)` sends one request and returns whether it succeeded.
    func run(concurrency: Int, seconds: Double, _ next: @escaping @Sendable (Int, Int) async throws -> Bool) async throws -> Result {
        let all = Shared((ok: 0, failed: 0, latencies: [Double]()))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    var i = 0
                    var local: [Double] = []
                    var ok = 0, failed = 0
                    while elapsed(since: start) < seconds {
                        let t0 = ContinuousClock.now
                        if (try? await next(w, i)) == true { ok += 1 } else { failed += 1 }
                        local.append(elapsed(since: t0))
                        i += 1
                    }
                    all.update {
                        $0.ok += ok
                        $0.failed += failed
                        $0.latencies += local
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = elapsed(since: start)
        let r = all.current
        return Result(ok: r.ok, failed: r.failed, seconds: total, latencies: r.latencies.sorted())
    }

    /// POSTs JSON; returns the status and the decoded object.
    func post(_ path: String, _ json: String, bearer: String? = nil, headers: [String: String] = [:]) async throws -> (Int, [String: Any]) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let bearer { request.headers.add(name: "authorization", value: "Bearer \(bearer)") }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object)
    }

    func get(_ path: String, bearer: String? = nil) async throws -> Int {
        var request = HTTPClientRequest(url: base + path)
        if let bearer { request.headers.add(name: "authorization", value: "Bearer \(bearer)") }
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// The server's `/metrics` as series → value (`name{labels}` as written; comments skipped).
    func metrics() async throws -> [String: Double] {
        let response = try await client.execute(HTTPClientRequest(url: base + "/metrics"), timeout: .seconds(30))
        guard response.status == .ok else { throw BenchError("/metrics answered \(response.status.code)") }
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        var series: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            series[String(line[..<space])] = value
        }
        return series
    }
}
