import AuthClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import Hummingbird
import Logging
import NotesAPI

// A tiny backend protected by authd: `NOTES_PORT` (default 8090), `AUTHD_URL` (default
// http://127.0.0.1:3000) and `AUTHD_DATABASE_URL` (authd's database, to follow revocations;
// unset: tokens are trusted until they expire).
let environment = ProcessInfo.processInfo.environment
let logger = Logger(label: "notes-api")
let authd = environment["AUTHD_URL"] ?? "http://127.0.0.1:3000"
let auth = try AuthClient(
    AuthClientConfiguration(jwksURL: authd + "/.well-known/jwks.json", databaseURL: environment["AUTHD_DATABASE_URL"]), logger: logger)
let port = Int(environment["NOTES_PORT"] ?? "") ?? 8090
var app = Application(
    router: NotesRoutes.router(auth: auth, book: NoteBook()),
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    logger: logger)
app.addServices(auth.services)
try await app.runService()
