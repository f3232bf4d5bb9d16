import Hummingbird

/// `authd-bench --serve-bare PORT`: a bare Hummingbird route in its own process, the yardstick
/// for authd's routes measured the same way in the same run.
enum BareServer {
    static func run(port: Int) async throws {
        let router = Router()
        router.get("/bare") { _, _ in "{\"ok\":true}" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
