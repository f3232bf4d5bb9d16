#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import TestSupport
import AsyncHTTPClient

/// A server the bench starts in its own process (authd serve, or the bare route).
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(executable: String, arguments: [String], environment: [String: String], port: Int) throws {
        self.port = port
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// Waits until `path` answers.
    func waitReady(_ client: HTTPClient, path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let r = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(2)),
               r.status.code < 500
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("server on port \(port) did not become ready")
    }

    /// CPU seconds (user + system) the process has used so far (from /proc).
    var cpuSeconds: Double { Self.cpuSeconds(pid: process.processIdentifier) }

    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return .nan }
        // Fields after the command name: state is #3, utime #14, stime #15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return .nan }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size in MiB (from /proc).
    var rssMiB: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return .nan }
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? .nan
        return kb / 1024
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A TCP port nobody listens on, below the ephemeral range (see `TestPorts`).
    static func freePort() -> Int { TestPorts.free() }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
