import AsyncHTTPClient
import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import NIOCore
import Testing

/// The admin web page in a real headless browser (issue 18 item 7): Debian's chromium driven
/// through chromedriver's WebDriver API. A platform admin signs in, finds a user, revokes their
/// session; the revoked token stops working. The test writes a screenshot of the page.
@Suite struct AdminPageBrowserTests {
    /// A minimal WebDriver client (JSON over HTTP to chromedriver).
    struct WebDriver {
        let base: String
        var session = ""

        /// One WebDriver command. (AsyncHTTPClient, not URLSession: chromedriver writes
        /// `Content-Length:252` without a space, which FoundationNetworking refuses.)
        func send(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
            var request = HTTPClientRequest(url: base + path)
            request.method = .init(rawValue: method)
            if let body {
                request.body = .bytes(ByteBuffer(string: body.jsonText))
                request.headers.add(name: "content-type", value: "application/json")
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let data = try await response.body.collect(upTo: 32 * 1024 * 1024)
            let answer = try JSONValue.parse(String(buffer: data))
            if let error = answer["value"]?["error"]?.stringValue {
                throw TestSetupError("webdriver \(method) \(path): \(error): \(answer["value"]?["message"]?.stringValue ?? "")")
            }
            return answer["value"] ?? .null
        }

        func element(_ css: String) async throws -> String {
            let found = try await send("POST", "/session/\(session)/element", .object(["using": .string("css selector"), "value": .string(css)]))
            return found.objectValue.first { $0.key.hasPrefix("element-") }?.value.stringValue ?? ""
        }

        /// Waits for an element to exist (the page reloads after a sign-in).
        func waitFor(_ css: String) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(20)
            while true {
                if let id = try? await element(css), !id.isEmpty { return id }
                if ContinuousClock.now > deadline { throw TestSetupError("no \(css) on the page within 20 s") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func type(_ css: String, _ text: String) async throws {
            let id = try await waitFor(css)
            _ = try await send("POST", "/session/\(session)/element/\(id)/value", .object(["text": .string(text)]))
        }

        func click(_ css: String) async throws {
            let id = try await waitFor(css)
            _ = try await send("POST", "/session/\(session)/element/\(id)/click", .object([:]))
        }

        func text(_ css: String) async throws -> String {
            let id = try await waitFor(css)
            return try await send("GET", "/session/\(session)/element/\(id)/text").stringValue ?? ""
        }
    }

    static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/usr/lib/chromium/", "/usr/local/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Plain HTTP to authd (the helper of the two-server tests).
    static func call(_ url: String, method: String = "GET", json: String? = nil, bearer: String? = nil) async throws -> (Int, String) {
        try await TwoServersTests().call(url, method: method, body: json, bearer: bearer)
    }

    /// Runs `authd serve` (with `env` added) and a headless Chromium session through
    /// chromedriver for `body`, which gets the driver, authd's base URL and port, and its
    /// database; both stop after it, whatever happens.
    static func withBrowser(
        _ env: [String: String], _ body: (WebDriver, _ base: String, _ port: Int, _ db: TestDatabase) async throws -> Void
    ) async throws {
        // One Chromium at a time: two starting at once on two cores starved the suite's
        // timing-sensitive tests.
        await BrowserTurn.shared.acquire()
        do {
            try await browse(env, body)
        } catch {
            await BrowserTurn.shared.release()
            throw error
        }
        await BrowserTurn.shared.release()
    }

    private static func browse(
        _ env: [String: String], _ body: (WebDriver, _ base: String, _ port: Int, _ db: TestDatabase) async throws -> Void
    ) async throws {
        // make test installs both (deploy/ensure-deps.sh); their absence is a failure, not a skip.
        let chromium = try #require(Self.tool("chromium"), "chromium is not installed: run `make test`, which installs it")
        let chromedriver = try #require(Self.tool("chromedriver"), "chromium-driver is not installed: run `make test`, which installs it")
        let db = try await TestDatabases.shared.migrated()
        let port = TestPorts.free(), driverPort = TestPorts.free()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try AuthdProcessTests.binary())
        server.arguments = ["serve"]
        server.environment = AuthdProcessTests.environment(
            db, ["AUTH_ENV": "development", "AUTH_HTTP_PORT": String(port), "AUTH_ARGON2_MEMORY_KIB": "1024", "AUTH_ARGON2_ITERATIONS": "1"]
                .merging(env.map { ($0.key, $0.value.replacingOccurrences(of: "{port}", with: String(port))) }) { $1 })
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(driverPort)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        defer { if driver.isRunning { driver.terminate() } }

        let base = "http://127.0.0.1:\(port)"
        let up = try await eventually(timeout: .seconds(30), interval: .milliseconds(100)) { (try? await Self.call(base + "/health/ready"))?.0 == 200 }
        try #require(up)
        var web = WebDriver(base: "http://127.0.0.1:\(driverPort)")
        let driverUp = try await eventually(timeout: .seconds(20), interval: .milliseconds(100)) { (try? await web.send("GET", "/status")) != nil }
        try #require(driverUp)
        let options: JSONValue = .object([
            "binary": .string(chromium),
            "args": .array(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100"].map(JSONValue.string)),
        ])
        let created = try await web.send(
            "POST", "/session",
            .object(["capabilities": .object(["alwaysMatch": .object(["browserName": .string("chrome"), "goog:chromeOptions": options])])]))
        web.session = try #require(created["sessionId"]?.stringValue)
        do {
            try await body(web, base, port, db)
        } catch {
            _ = try? await web.send("DELETE", "/session/\(web.session)")  // the browser goes with its session
            throw error
        }
        _ = try await web.send("DELETE", "/session/\(web.session)")
        kill(server.processIdentifier, SIGTERM)
        _ = try await eventually(timeout: .seconds(15)) { !server.isRunning }
    }

    @Test func aPlatformAdminFindsAUserAndRevokesTheirSession() async throws {
        let secret = "a bootstrap secret for the browser test"
        try await Self.withBrowser(["AUTH_ADMIN_SECRET": secret]) { web, base, _, _ in
            let (made, madeBody) = try await Self.call(
                base + "/auth/admin/signup", method: "POST", json: #"{"email":"op@example.com","password":"operator password 1","secretKey":"\#(secret)"}"#)
            try #require(made == 201, "\(madeBody)")
            let (_, signup) = try await Self.call(base + "/auth/signup", method: "POST", json: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
            let token = try #require(try JSONValue.parse(signup)["accessToken"]?.stringValue)
            for i in 0..<3 { _ = try await Self.call(base + "/auth/signup", method: "POST", json: #"{"email":"user\#(i)@example.com","password":"correct horse battery"}"#) }
            #expect(try await Self.call(base + "/auth/me", bearer: token).0 == 200)
            try await drive(web, base: base, token: token)
        }
    }

    /// Sign in, search, open the user, revoke, screenshot.
    func drive(_ web: WebDriver, base: String, token: String) async throws {

        _ = try await web.send("POST", "/session/\(web.session)/url", .object(["url": .string(base + "/auth/admin")]))
        try await web.type("#platform-login input[name=email]", "op@example.com")
        try await web.type("#platform-login input[name=password]", "operator password 1")
        try await web.click("#platform-login button")
        _ = try await web.waitFor("#users")
        #expect(try await web.text("#who") == "op@example.com")
        try await web.type("#search", "ann")
        try await web.click("#search-go")
        // The search reloads the page: wait until the list is the filtered one.
        let filtered = try await eventually(timeout: .seconds(20), interval: .milliseconds(100)) {
            let text = (try? await web.text("#users")) ?? ""
            return text.contains("ann@example.com") && !text.contains("user1@example.com")
        }
        try #require(filtered)
        #expect(try await web.text("#users") .contains("ann@example.com"))
        #expect(!(try await web.text("#users")).contains("user1@example.com"))
        try await web.click("a.user-link")
        #expect(try await web.text("#user-email") == "ann@example.com")
        #expect(try await web.text("#session-count") == "1")
        try await web.click("button.revoke")
        let said = try await eventually(timeout: .seconds(10), interval: .milliseconds(100)) {
            (try? await web.text("#message")) == "Session revoked"
        }
        #expect(said)
        // The revoked token stops working.
        #expect(try await Self.call(base + "/auth/me", bearer: token).0 == 401)

        // The screenshot, for a person to look at (and proof a page was drawn).
        _ = try await web.send("POST", "/session/\(web.session)/url", .object(["url": .string(base + "/auth/admin")]))
        _ = try await web.waitFor("#audit")
        let png = try #require(Data(base64Encoded: try await web.send("GET", "/session/\(web.session)/screenshot").stringValue ?? ""))
        #expect(png.count > 5_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let dir = ProcessInfo.processInfo.environment["AUTHD_TEST_ARTIFACTS"] ?? NSTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = URL(fileURLWithPath: dir).appendingPathComponent("admin-page.png")
        try png.write(to: file)
        print("admin page screenshot: \(file.path)")
    }
}

/// Lets one browser test run at a time.
actor BrowserTurn {
    static let shared = BrowserTurn()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
