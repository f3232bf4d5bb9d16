#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Ports for servers the tests start (authd, chromedriver, PostgreSQL clusters, receivers).
/// Below Linux's ephemeral range (32768–60999): a port picked at random inside it can be taken
/// at any moment as the source port of one of the suite's own outgoing connections, and a
/// server that cannot bind fails its test (seen once the suite made many more connections).
/// Each port is handed out once per test process and checked to be free on loopback.
public enum TestPorts {
    private static let given = Mutex<Set<Int>>([])

    public static func free() -> Int {
        for _ in 0..<1000 {
            let port = Int.random(in: 10_000..<32_000)
            guard given.withLock({ $0.insert(port).inserted }) else { continue }
            if canBind(port) { return port }
        }
        return Int.random(in: 10_000..<32_000)
    }

    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}
