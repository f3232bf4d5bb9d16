#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of one test's own (DESIGN.md §7: tests that stop or restart the server
/// must not take the shared one down), from the binaries `make test` names in `AUTH_TEST_PG_BIN`.
/// As root the server runs as `postgres` (it refuses root), in a directory under /var/tmp.
public final class OwnCluster: Sendable {
    public let directory: String
    public let port: Int
    let bin: String

    /// initdb + start; throws (never skips) when the binaries are missing.
    public static func start() async throws -> OwnCluster {
        let cluster = try OwnCluster()
        if getuid() == 0 { try await run("/usr/bin/chown", ["postgres:postgres", cluster.directory]) }
        try await cluster.run("initdb", ["-D", cluster.directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N"])
        try await cluster.start()
        return cluster
    }

    /// A hot standby of `primary` (pg_basebackup, streaming), started on a port of its own: it
    /// takes connections and reads, and refuses writes and LISTEN ("during recovery").
    public static func startStandby(of primary: OwnCluster) async throws -> OwnCluster {
        let cluster = try OwnCluster()
        if getuid() == 0 { try await run("/usr/bin/chown", ["postgres:postgres", cluster.directory]) }
        try await cluster.run("pg_basebackup", [
            "-D", cluster.directory + "/data", "-h", primary.directory, "-p", String(primary.port), "-U", "postgres", "-R", "-X", "stream",
        ])
        try await cluster.start()
        return cluster
    }

    /// A cluster for the duration of `body`, destroyed after it however it ends.
    public static func with<T>(_ body: (OwnCluster) async throws -> T) async throws -> T {
        try await destroying(try await start(), body)
    }

    /// A hot standby of this cluster for the duration of `body`, destroyed after it.
    public func withStandby<T>(_ body: (OwnCluster) async throws -> T) async throws -> T {
        try await Self.destroying(try await Self.startStandby(of: self), body)
    }

    private static func destroying<T>(_ cluster: OwnCluster, _ body: (OwnCluster) async throws -> T) async throws -> T {
        do {
            let value = try await body(cluster)
            await cluster.destroy()
            return value
        } catch {
            await cluster.destroy()
            throw error
        }
    }

    /// Creates an empty database `name` and returns its conninfo.
    public func createDatabase(_ name: String) async throws -> String {
        let admin = PGPool(.init(conninfo: conninfo(), size: 1))
        do {
            try await admin.query("CREATE DATABASE \(name)")
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
        return conninfo(name)
    }

    private init() throws {
        guard let bin = ProcessInfo.processInfo.environment["AUTH_TEST_PG_BIN"], !bin.isEmpty else {
            throw TestSetupError("AUTH_TEST_PG_BIN is not set: run the tests with `make test`")
        }
        self.bin = bin
        directory = "/var/tmp/authd-own-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        port = TestPorts.free()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The conninfo of database `name` on this cluster.
    public func conninfo(_ name: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=postgres dbname=\(name) sslmode=disable"
    }

    public func start() async throws {
        try await run("pg_ctl", [
            "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60",
            "-o", "-p \(port) -k \(directory) -c listen_addresses='' -c fsync=off", "start",
        ])
    }

    /// A fast shutdown (every connection is cut), then a start on the same port.
    public func restart() async throws {
        try await run("pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "-t", "60", "stop"])
        try await start()
    }

    /// Stops the server and removes the directory.
    public func destroy() async {
        try? await run("pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "-t", "30", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(_ tool: String, _ args: [String]) async throws {
        let path = bin + "/" + tool
        // From /: the postgres user may not be able to enter the repository's directory.
        let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + args : [path] + args
        try await Self.run("/bin/sh", ["-c", "cd / && exec \"$@\"", "sh"] + command)
    }

    /// posix_spawn + a polled `waitpid(WNOHANG)`: Foundation's `Process` left `runuser` unreaped
    /// (a zombie, `waitUntilExit` never returned) in the test process, and polling keeps the
    /// cooperative pool free while pg_ctl waits for the server.
    private static func run(_ executable: String, _ args: [String]) async throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // The children (postgres among them) start with no blocked signals.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw TestSetupError("cannot start \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 { return }  // reaped by someone else: its exit status is unknown
            try await Task.sleep(for: .milliseconds(20))
        }
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            throw TestSetupError("\(executable) \(args.joined(separator: " ")) failed (status \(status))")
        }
    }
}
