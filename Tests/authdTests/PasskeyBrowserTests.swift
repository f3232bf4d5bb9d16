import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import TestSupport
import Testing

/// Passkeys end to end in a real browser (issue 19 item 6): headless Chromium with a virtual
/// authenticator (WebDriver's WebAuthn extension, which chromedriver implements over CDP's
/// `WebAuthn` domain) registers a passkey through `navigator.credentials.create`, logs in with
/// `navigator.credentials.get`, and is refused once the passkey is deleted.
@Suite struct PasskeyBrowserTests {
    typealias WebDriver = AdminPageBrowserTests.WebDriver

    /// The page's side of both ceremonies (WebAuthn's binary fields travel as base64url).
    static let helpers = """
        const b64 = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
        const enc = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
        const post = async (path, body, token) => {
          const headers = {'content-type': 'application/json'};
          if (token) headers.authorization = 'Bearer ' + token;
          const r = await fetch(path, {method: 'POST', headers, body: JSON.stringify(body || {})});
          return {status: r.status, body: await r.text()};
        };
        """

    static let register = helpers + """
        const token = arguments[0], done = arguments[arguments.length - 1];
        (async () => {
          const o = JSON.parse((await post('/auth/passkeys/register/options', {}, token)).body);
          const cred = await navigator.credentials.create({publicKey: {...o, challenge: b64(o.challenge),
            user: {...o.user, id: b64(o.user.id)}, excludeCredentials: o.excludeCredentials.map(c => ({...c, id: b64(c.id)}))}});
          const credential = {id: cred.id, rawId: enc(cred.rawId), type: cred.type, response: {
            clientDataJSON: enc(cred.response.clientDataJSON), attestationObject: enc(cred.response.attestationObject),
            transports: cred.response.getTransports ? cred.response.getTransports() : []}};
          done(await post('/auth/passkeys/register/verify', {credential, name: 'chromium'}, token));
        })().catch(e => done({status: 0, body: String(e)}));
        """

    static let login = helpers + """
        const done = arguments[arguments.length - 1];
        (async () => {
          const o = JSON.parse((await post('/auth/passkeys/login/options', {})).body);
          const cred = await navigator.credentials.get({publicKey: {...o, challenge: b64(o.challenge)}});
          const credential = {id: cred.id, rawId: enc(cred.rawId), type: cred.type, response: {
            clientDataJSON: enc(cred.response.clientDataJSON), authenticatorData: enc(cred.response.authenticatorData),
            signature: enc(cred.response.signature), userHandle: cred.response.userHandle ? enc(cred.response.userHandle) : null}};
          done(await post('/auth/passkeys/login/verify', {credential}));
        })().catch(e => done({status: 0, body: String(e)}));
        """

    @Test func registerLogInAndDeleteInChromium() async throws {
        try await AdminPageBrowserTests.withBrowser(["AUTH_PASSKEY_RP_ID": "localhost", "AUTH_PASSKEY_ORIGINS": "http://localhost:{port}"]) { web, base, port, db in
            let (_, signup) = try await AdminPageBrowserTests.call(
                base + "/auth/signup", method: "POST", json: #"{"email":"ann@example.com","password":"correct horse battery"}"#)
            let token = try #require(try JSONValue.parse(signup)["accessToken"]?.stringValue)
            // Passkeys need a verified address (the e-mail flow itself is tested elsewhere).
            try await db.withPool(size: 1) { pool in
                _ = try await pool.query(
                    """
                    DO $$ DECLARE s text; BEGIN
                      FOR s IN SELECT schema_name FROM auth.tenants LOOP
                        EXECUTE format('UPDATE %I.users SET email_verified_at = now()', s);
                      END LOOP;
                    END $$
                    """)
            }
            try await drive(web, base: base, port: port, token: token)
        }
    }

    func drive(_ web: WebDriver, base: String, port: Int, token: String) async throws {
        // A page of authd's origin: http://localhost is a secure context, as WebAuthn needs.
        _ = try await web.send("POST", "/session/\(web.session)/url", .object(["url": .string("http://localhost:\(port)/health/live")]))
        let authenticator = try await web.send(
            "POST", "/session/\(web.session)/webauthn/authenticator",
            .object([
                "protocol": .string("ctap2"), "transport": .string("internal"), "hasResidentKey": .bool(true),
                "hasUserVerification": .bool(true), "isUserVerified": .bool(true), "isUserConsenting": .bool(true),
            ]))
        let authenticatorID = try #require(authenticator.stringValue)

        let registered = try await web.send("POST", "/session/\(web.session)/execute/async", .object(["script": .string(Self.register), "args": .array([.string(token)])]))
        #expect(registered["status"]?.intValue == 201, "\(registered)")
        let passkey = try JSONValue.parse(registered["body"]?.stringValue ?? "{}")
        let passkeyID = try #require(passkey["id"]?.stringValue)
        let stored = try await web.send("GET", "/session/\(web.session)/webauthn/authenticator/\(authenticatorID)/credentials")
        #expect(stored.arrayValue?.count == 1, "the browser's authenticator holds the discoverable credential")

        let loggedIn = try await web.send("POST", "/session/\(web.session)/execute/async", .object(["script": .string(Self.login), "args": .array([])]))
        #expect(loggedIn["status"]?.intValue == 200, "\(loggedIn)")
        let answer = try JSONValue.parse(loggedIn["body"]?.stringValue ?? "{}")
        let sessionToken = try #require(answer["accessToken"]?.stringValue)
        #expect(answer["isRequiresMfa"] == .bool(false))
        #expect(try await AdminPageBrowserTests.call(base + "/auth/me", bearer: sessionToken).0 == 200)

        // Deleted on the server (the signup's session proved itself recently): the browser's
        // credential no longer logs in.
        let (deleted, body) = try await TwoServersTests().call(base + "/auth/passkeys/\(passkeyID)", method: "DELETE", body: nil, bearer: token)
        #expect(deleted == 200, "\(body)")
        let refused = try await web.send("POST", "/session/\(web.session)/execute/async", .object(["script": .string(Self.login), "args": .array([])]))
        #expect(refused["status"]?.intValue == 401 && (refused["body"]?.stringValue ?? "").contains("INVALID_CREDENTIALS"), "\(refused)")
    }
}
