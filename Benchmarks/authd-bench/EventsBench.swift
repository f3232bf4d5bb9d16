#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import AuthCore
import PGKit

/// Events across processes: commit → handler latency in an `authd listen` process, the rate one
/// worker sustains, and loss across a SIGKILL + restart in the middle of 10,000 events.
struct EventsBench: Sendable {
    let conninfo: String
    let authd: String

    /// A running `authd listen --consumer log` whose stdout lines are read as they come.
    final class Listener: @unchecked Sendable {
        let process = Process()
        let pipe = Pipe()
        let seen = Shared([String: Double]())  // event id → seconds when read (monotonic, or wall with `wallClock`)

        init(authd: String, conninfo: String, group: String, type: String, wallClock: Bool = false, start: String = "oldest") throws {
            let arguments = ["listen", "--consumer", "log:\(group)", "--subscribe", type, "--start", start, "--lease-seconds", "2"]
            if let nice = ProcessInfo.processInfo.environment["AUTH_BENCH_LISTEN_NICE"], Int(nice) != nil {
                // An experiment knob: the listener at another scheduling priority (e.g. -10).
                process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
                process.arguments = ["-n", nice, authd] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: authd)
                process.arguments = arguments
            }
            var env = ProcessInfo.processInfo.environment
            env["AUTH_DATABASE_URL"] = conninfo
            env["AUTH_LOG_LEVEL"] = "error"
            process.environment = env
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            let seen = self.seen
            let buffer = Shared(Data())
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let now = wallClock ? Date().timeIntervalSince1970 : EventsBench.monotonic()
                let chunk = handle.availableData
                var lines: [Data] = []
                buffer.update { b in
                    b.append(chunk)
                    while let nl = b.firstIndex(of: 0x0A) {
                        lines.append(b[b.startIndex..<nl])
                        b.removeSubrange(b.startIndex...nl)
                    }
                }
                for line in lines where wallClock {
                    // Refresh events carry ids in actor and subject too: parse the envelope.
                    if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any], let id = object["id"] as? String {
                        seen.update { if $0[id] == nil { $0[id] = now } }
                    }
                }
                for line in lines where !wallClock {
                    // Sorted keys, and the bench's events have empty actor/subject/data, so the
                    // first "id" of a line is the envelope's: no full JSON parse per line.
                    if let range = line.range(of: Data(#""id":""#.utf8)), line.distance(from: range.upperBound, to: line.endIndex) >= 36 {
                        let id = String(decoding: line[range.upperBound..<line.index(range.upperBound, offsetBy: 36)], as: UTF8.self)
                        seen.update { if $0[id] == nil { $0[id] = now } }
                    }
                }
            }
            try process.run()
        }

        func kill9() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func stop() {
            pipe.fileHandleForReading.readabilityHandler = nil
            if process.isRunning {
                process.terminate()
                for _ in 0..<50 where process.isRunning { usleep(100_000) }
                if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            }
        }
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func run() async throws -> [BenchRow] {
        let pool = PGPool(.init(conninfo: conninfo, size: 4))
        let notifier = EventNotifier(db: AuthDatabase(pool: pool))
        var rows: [BenchRow] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await notifier.run() }
            defer { group.cancelAll() }
            rows += try await latency(pool: pool, notifier: notifier, rate: 200)
            rows += try await latency(pool: pool, notifier: notifier, rate: 1000)
            rows += try await throughputAndLoss(pool: pool)
        }
        await pool.shutdown()
        return rows
    }

    /// One event per transaction at a steady rate; latency = read from the listener's stdout −
    /// the monotonic time stamped just before COMMIT (same clock across processes).
    private func latency(pool: PGPool, notifier: EventNotifier, rate: Double) async throws -> [BenchRow] {
        let type = "bench.latency.\(UUID().uuidString.prefix(6).lowercased())"
        let listener = try Listener(authd: authd, conninfo: conninfo, group: "bench-latency-\(type.suffix(6))", type: type)
        defer { listener.stop() }
        try await Task.sleep(for: .seconds(2))  // the listener connects and creates its group
        let outbox = EventOutbox(notifier: notifier)
        let count = Int(rate * 5)
        var sent: [String: Double] = [:]
        let start = ContinuousClock.now
        for i in 0..<count {
            let event = AuthEvent(AuthEvent.Name(rawValue: type), tenantID: nil)
            let stamp = try await pool.withTransaction { tx in
                try await outbox.append(event, in: tx)
                return EventsBench.monotonic()
            }
            sent[event.id.uuidString.lowercased()] = stamp
            let due = start + .milliseconds(Int(Double(i + 1) * 1000 / rate))
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while listener.seen.current.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let seen = listener.seen.current
        let latencies = sent.compactMap { id, t in seen[id].map { ($0 - t) * 1000 } }.sorted()
        return [
            BenchRow(
                name: "events: commit → handler in another process", value: "p50 \(BenchTable.f(percentile(latencies, 0.5), 2)) ms",
                note: "p99 \(BenchTable.f(percentile(latencies, 0.99), 2)) ms at \(Int(rate)) events/s (1 per transaction); \(latencies.count)/\(count) delivered; targets p50 < 2, p99 < 10"),
        ]
    }

    /// 10,000 events written first; one worker drains them; it is SIGKILLed halfway and restarted.
    private func throughputAndLoss(pool: PGPool) async throws -> [BenchRow] {
        let type = "bench.drain.\(UUID().uuidString.prefix(6).lowercased())"
        let total = 10_000
        var ids = Set<String>()
        for _ in 0..<(total / 500) {
            let batch = (0..<500).map { _ in AuthEvent(AuthEvent.Name(rawValue: type), tenantID: nil) }
            try await pool.withTransaction { tx in try await EventOutbox().append(batch, in: tx) }
            for e in batch { ids.insert(e.id.uuidString.lowercased()) }
        }
        let group = "bench-drain-\(type.suffix(6))"
        // Uninterrupted drain by one worker: the rate.
        let first = try Listener(authd: authd, conninfo: conninfo, group: group, type: type)
        let t0 = ContinuousClock.now
        var deadline = ContinuousClock.now + .seconds(120)
        while first.seen.current.count < total / 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let halfway = elapsed(since: t0)
        let rate = Double(first.seen.current.count) / halfway
        // Kill it mid-stream, start another: everything must still arrive.
        first.kill9()
        let second = try Listener(authd: authd, conninfo: conninfo, group: group, type: type)
        defer { second.stop() }
        deadline = ContinuousClock.now + .seconds(120)
        func union() -> Set<String> { Set(first.seen.current.keys).union(second.seen.current.keys) }
        while union().intersection(ids).count < total, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let got = union().intersection(ids)
        let duplicates = first.seen.current.count + second.seen.current.count - got.count
        return [
            BenchRow(name: "events/s one worker sustains (log consumer)", value: BenchTable.f(rate, 0), note: "draining a backlog of \(total)"),
            BenchRow(
                name: "worker SIGKILLed halfway through 10,000, restarted", value: "lost \(total - got.count)",
                note: "\(duplicates) delivered twice (the killed worker's in-flight batch: at-least-once)"),
        ]
    }
}
