#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// Drives `POST /auth/refresh-token` with wrk: `connections` threads of one connection each, every
/// connection cycling through its share of the sessions and sending each session's newest token
/// (a refresh answers with the next one). wrk costs the two cores far less than a Swift client,
/// so more of them is left to authd and PostgreSQL — as in production, where clients are elsewhere.
struct RefreshLoad {
    struct Result {
        var perSecond: Double
        var p50: String
        var p99: String
        var non2xx: Int
        /// wrk's own CPU, percent of one core.
        var driverCPU: Double
    }

    let wrk: String
    let url: String
    let seconds: Double

    /// Nil when wrk is not installed.
    static func locate() -> String? {
        ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run(tokens: [String], connections: Int) throws -> Result {
        let dir = NSTemporaryDirectory() + "authd-bench-refresh-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tokens.joined(separator: "\n").write(toFile: dir + "/tokens", atomically: true, encoding: .utf8)
        let script = """
            local all = {}
            for line in io.lines("\(dir)/tokens") do all[#all + 1] = line end
            local next_id = 0
            function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
            function init(args)
              tokens = {}
              for i = 1, #all do if (i - 1) % \(connections) == id then tokens[#tokens + 1] = all[i] end end
              k = 1
            end
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            function request()
              return wrk.format(nil, nil, nil, '{"refreshToken":"' .. tokens[k] .. '"}')
            end
            function response(status, headers, body)
              local t = body:match('"refreshToken":"([^"]+)"')
              if t then tokens[k] = t end
              k = k % #tokens + 1
            end

            """
        try script.write(toFile: dir + "/refresh.lua", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: wrk)
        p.arguments = ["-t\(connections)", "-c\(connections)", "-d\(Int(seconds))s", "--latency", "-s", dir + "/refresh.lua", url]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let before = Self.childrenCPUSeconds()
        let started = ContinuousClock.now
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let wall = started.duration(to: .now)
        let driverCPU = (Self.childrenCPUSeconds() - before) / (Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18) * 100
        let field = { Self.field($0, in: text) }
        return Result(
            perSecond: Double(field("Requests/sec:") ?? "") ?? 0, p50: field("50%") ?? "?", p99: field("99%") ?? "?",
            non2xx: Int(field("Non-2xx or 3xx responses:") ?? "") ?? 0, driverCPU: driverCPU)
    }

    /// The last word of wrk's output line starting with `prefix` ("Requests/sec:", "50%", …).
    static func field(_ prefix: String, in text: String) -> String? {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix(prefix) }?
            .split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
    }

    /// CPU seconds of this process's waited-for children.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
