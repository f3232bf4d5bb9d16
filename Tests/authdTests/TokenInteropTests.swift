import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import TestSupport
import Testing

/// Issue 20 item 5: a client in another language verifies authd's access tokens with nothing
/// but the published JWKS — PyJWT (Debian's python3-jwt, installed by `make test`) fetches
/// `/.well-known/jwks.json` from a running `authd serve` and checks signature, `iss`, `aud`, `exp`.
@Suite struct TokenInteropTests {
    /// Debian's interpreter (a pyenv or venv `python3` earlier on PATH may lack the packages).
    static let python = "/usr/bin/python3"

    static let verifier = """
        import json, sys, jwt
        url, token, issuer, audience = sys.argv[1:5]
        key = jwt.PyJWKClient(url).get_signing_key_from_jwt(token)
        try:
            claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience=audience, issuer=issuer)
        except jwt.InvalidTokenError as error:
            print(type(error).__name__)
            sys.exit(3)
        print(json.dumps(claims))
        """

    @Test func pyJWTVerifiesAnAccessTokenWithOurJWKS() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.python), "python3 is not installed: run `make test`, which installs it")
        let db = try await TestDatabases.shared.migrated()
        let port = TestPorts.free()
        let key = "main:" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let server = try TwoServersTests().serve(db, key: key, port: port)
        defer { if server.isRunning { server.terminate() } }
        let base = "http://127.0.0.1:\(port)"
        let up = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            (try? await TwoServersTests().call(base + "/health/ready"))?.0 == 200
        }
        try #require(up)
        let (_, signup) = try await TwoServersTests().call(
            base + "/auth/signup", method: "POST", body: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
        let token = try #require(try JSONValue.parse(signup)["accessToken"]?.stringValue)

        func verify(_ token: String, audience: String = "authd") async throws -> AuthdProcessTests.Result {
            try await AuthdProcessTests.run(
                ["-c", Self.verifier, base + "/.well-known/jwks.json", token, "authd", audience], env: ProcessInfo.processInfo.environment,
                executable: Self.python)
        }
        let accepted = try await verify(token)
        #expect(accepted.status == 0, "\(accepted.stdout) \(accepted.stderr)")
        let claims = try JSONValue.parse(accepted.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(claims["sub"]?.stringValue == (try JSONValue.parse(signup))["user"]?["id"]?.stringValue)

        // And it refuses what it must: a changed signature, another audience.
        var parts = token.split(separator: ".").map(String.init)
        var signature = Array(parts[2])
        signature[20] = signature[20] == "A" ? "B" : "A"
        parts[2] = String(signature)
        let tampered = try await verify(parts.joined(separator: "."))
        #expect(tampered.status == 3 && tampered.stdout.contains("InvalidSignatureError"), "\(tampered.stdout) \(tampered.stderr)")
        let foreign = try await verify(token, audience: "another-api")
        #expect(foreign.status == 3 && foreign.stdout.contains("InvalidAudienceError"), "\(foreign.stdout) \(foreign.stderr)")
        kill(server.processIdentifier, SIGTERM)
        _ = try await eventually(timeout: .seconds(15)) { !server.isRunning }
    }
}
