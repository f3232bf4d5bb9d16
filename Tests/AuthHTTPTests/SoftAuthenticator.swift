import AuthCore
import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// A WebAuthn authenticator in software, for the HTTP tests: makes discoverable ES256 or Ed25519
/// credentials with user verification, a "none" attestation and a counting signature counter,
/// and answers as a browser's `PublicKeyCredential.toJSON()` would. Each field can be made wrong.
struct SoftAuthenticator {
    enum Key {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    let key: Key
    let credentialID: [UInt8]
    let origin: String
    var counter: UInt32 = 0
    var userHandle: String?

    init(ed25519: Bool = false, origin: String = "http://localhost:8080") throws {
        key = ed25519 ? .ed25519(Curve25519.Signing.PrivateKey()) : .p256(P256.Signing.PrivateKey())
        credentialID = try SecureRandom.bytes(20)
        self.origin = origin
    }

    /// `navigator.credentials.create` for `options` (the creation options authd gave).
    mutating func create(
        _ options: JSONObject, flags: UInt8 = 0x45, type: String = "webauthn.create", fmt: String = "none", statement: [(CBORValue, CBORValue)] = []
    ) throws -> JSONObject {
        let rpID = options["rp"]?.objectValue["id"]?.stringValue ?? ""
        userHandle = options["user"]?.objectValue["id"]?.stringValue
        let clientData = Self.clientData(type: type, challenge: options["challenge"]?.stringValue ?? "", origin: origin)
        let cose: CBORValue
        switch key {
        case .p256(let k):
            let raw = Array(k.publicKey.rawRepresentation)
            cose = .map([(.int(1), .int(2)), (.int(3), .int(-7)), (.int(-1), .int(1)), (.int(-2), .bytes(Array(raw[0..<32]))), (.int(-3), .bytes(Array(raw[32...])))])
        case .ed25519(let k):
            cose = .map([(.int(1), .int(1)), (.int(3), .int(-8)), (.int(-1), .int(6)), (.int(-2), .bytes(Array(k.publicKey.rawRepresentation)))])
        }
        var authData = Array(SHA256.hash(data: Array(rpID.utf8))) + [flags] + Self.be32(counter)
        authData += [UInt8](repeating: 0, count: 16) + [UInt8(credentialID.count >> 8), UInt8(credentialID.count & 0xff)] + credentialID
        authData += cose.encoded
        let attestation = CBORValue.map([(.text("fmt"), .text(fmt)), (.text("attStmt"), .map(statement)), (.text("authData"), .bytes(authData))])
        let id = WebAuthnBase64.encode(credentialID)
        return [
            "id": .string(id), "rawId": .string(id), "type": .string("public-key"),
            "response": .object([
                "clientDataJSON": .string(WebAuthnBase64.encode(clientData)), "attestationObject": .string(WebAuthnBase64.encode(attestation.encoded)),
                "transports": .array([.string("internal")]),
            ]),
            "clientExtensionResults": .object([:]),
        ]
    }

    /// `navigator.credentials.get` for `options` (the request options authd gave).
    mutating func get(_ options: JSONObject, flags: UInt8 = 0x05, counter explicit: UInt32? = nil, origin other: String? = nil) throws -> JSONObject {
        counter = explicit ?? counter + 1
        let rpID = options["rpId"]?.stringValue ?? ""
        let clientData = Self.clientData(type: "webauthn.get", challenge: options["challenge"]?.stringValue ?? "", origin: other ?? origin)
        let authData = Array(SHA256.hash(data: Array(rpID.utf8))) + [flags] + Self.be32(counter)
        let signed = authData + Array(SHA256.hash(data: clientData))
        let signature: [UInt8]
        switch key {
        case .p256(let k): signature = Array(try k.signature(for: signed).derRepresentation)
        case .ed25519(let k): signature = Array(try k.signature(for: signed))
        }
        let id = WebAuthnBase64.encode(credentialID)
        var response: JSONObject = [
            "clientDataJSON": .string(WebAuthnBase64.encode(clientData)), "authenticatorData": .string(WebAuthnBase64.encode(authData)),
            "signature": .string(WebAuthnBase64.encode(signature)),
        ]
        if let userHandle { response["userHandle"] = .string(userHandle) }
        return ["id": .string(id), "rawId": .string(id), "type": .string("public-key"), "response": .object(response)]
    }

    static func clientData(type: String, challenge: String, origin: String) -> [UInt8] {
        Array(#"{"type":"\#(type)","challenge":"\#(challenge)","origin":"\#(origin)","crossOrigin":false}"#.utf8)
    }

    static func be32(_ n: UInt32) -> [UInt8] { [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] }
}

/// Just enough of a CBOR encoder for the authenticator above.
indirect enum CBORValue {
    case int(Int)
    case bytes([UInt8])
    case text(String)
    case map([(CBORValue, CBORValue)])

    var encoded: [UInt8] {
        switch self {
        case .int(let n): n >= 0 ? Self.head(0, UInt64(n)) : Self.head(1, UInt64(-1 - n))
        case .bytes(let b): Self.head(2, UInt64(b.count)) + b
        case .text(let t): Self.head(3, UInt64(t.utf8.count)) + Array(t.utf8)
        case .map(let pairs): Self.head(5, UInt64(pairs.count)) + pairs.flatMap { $0.0.encoded + $0.1.encoded }
        }
    }

    static func head(_ major: UInt8, _ n: UInt64) -> [UInt8] {
        switch n {
        case 0..<24: [major << 5 | UInt8(n)]
        case 24..<256: [major << 5 | 24, UInt8(n)]
        case 256..<65536: [major << 5 | 25, UInt8(n >> 8), UInt8(n & 0xff)]
        default: [major << 5 | 26, UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        }
    }
}
