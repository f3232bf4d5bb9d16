import AuthClient
import Hummingbird
import NotesAPI

/// `authd-bench --serve-bare PORT`: a bare Hummingbird route in its own process, the yardstick
/// for authd's routes measured the same way in the same run.
enum BareServer {
    static func run(port: Int) async throws {
        let router = Router()
        router.get("/bare") { _, _ in "{\"ok\":true}" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }

    /// `authd-bench --serve-notes PORT AUTHD_BASE`: the example backend (`Examples/notes-api`),
    /// verifying authd's tokens through `AuthClient` and following revocations on
    /// `AUTH_DATABASE_URL` — the bench's row for the middleware's cost.
    static func runNotes(port: Int, authd: String, databaseURL: String) async throws {
        let auth = try AuthClient(AuthClientConfiguration(jwksURL: authd + "/.well-known/jwks.json", databaseURL: databaseURL))
        var app = Application(
            router: NotesRoutes.router(auth: auth, book: NoteBook()), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        app.addServices(auth.services)
        try await app.runService()
    }
}
