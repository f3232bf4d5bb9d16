import AuthCore
import Testing

/// The WebAuthn relying-party checks against the W3C Level 3 test vectors, and the strict CBOR
/// decoder against malformed input.
@Suite struct WebAuthnVerifierTests {
    /// The vectors' relying party; their authenticators do not verify the user, so UV is not
    /// required here (authd's own setting requires it: see `userVerificationIsRequiredByDefault`).
    static let rp = WebAuthnRelyingParty(id: "example.org", name: "Example", origins: ["https://example.org"], requireUserVerification: false)

    static func register(_ v: Vector, rp: WebAuthnRelyingParty = rp) throws -> VerifiedRegistration {
        try WebAuthnVerifier(rp).verifyRegistration(
            clientDataJSON: hex(v.registrationClientDataJSON), attestationObject: hex(v.attestationObject), challenge: hex(v.registrationChallenge))
    }

    static func authenticate(
        _ v: Vector, _ registered: VerifiedRegistration, rp: WebAuthnRelyingParty = rp, signature: [UInt8]? = nil, stored: UInt32 = 0,
        challenge: [UInt8]? = nil
    ) throws -> AuthenticatorData {
        try WebAuthnVerifier(rp).verifyAssertion(
            clientDataJSON: hex(v.authenticationClientDataJSON), authenticatorData: hex(v.authenticatorData),
            signature: signature ?? hex(v.signature), challenge: challenge ?? hex(v.authenticationChallenge), publicKey: registered.publicKey,
            storedSignCount: stored, backupEligible: registered.backupEligible)
    }

    @Test(arguments: [
        ("none.ES256", WebAuthnVectors.noneES256, COSEKey.algES256), ("packed.EdDSA", WebAuthnVectors.packedEdDSA, COSEKey.algEdDSA),
        ("packed-self.ES256", WebAuthnVectors.packedSelfES256, COSEKey.algES256),
        ("none.ES256.long-credential-id", WebAuthnVectors.longCredentialID, COSEKey.algES256),
    ])
    func vectorsRegisterAndAuthenticate(_ name: String, _ v: Vector, _ algorithm: Int) throws {
        let registered = try Self.register(v)
        #expect(registered.credentialID == hex(v.credentialID), "\(name)")
        #expect(registered.publicKey.algorithm == algorithm)
        // The stored form rebuilds the same key.
        #expect(COSEKey(algorithm: registered.publicKey.algorithm, raw: registered.publicKey.raw) == registered.publicKey)
        let data = try Self.authenticate(v, registered)
        #expect(data.signCount == 0)
    }

    @Test func everyCheckRefuses() throws {
        let v = WebAuthnVectors.noneES256
        let registered = try Self.register(v)
        var signature = hex(v.signature)
        signature[signature.count - 3] ^= 0x01
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.authenticate(v, registered, signature: signature) }
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.authenticate(v, registered, challenge: hex(v.registrationChallenge)) }
        let elsewhere = WebAuthnRelyingParty(id: "example.org", name: "x", origins: ["https://example.com"], requireUserVerification: false)
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.register(v, rp: elsewhere) }
        let otherID = WebAuthnRelyingParty(id: "example.com", name: "x", origins: ["https://example.org"], requireUserVerification: false)
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.register(v, rp: otherID) }
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.authenticate(v, registered, rp: otherID) }
        // A registration's client data is not an assertion's (type), nor the reverse.
        #expect(throws: WebAuthnVerifier.Refusal.self) {
            try WebAuthnVerifier(Self.rp).verifyRegistration(
                clientDataJSON: hex(v.authenticationClientDataJSON), attestationObject: hex(v.attestationObject),
                challenge: hex(v.authenticationChallenge))
        }
        // A counter that went backwards: a cloned authenticator.
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.authenticate(v, registered, stored: 7) }
        // The other vector's key does not verify this one's signature.
        let eddsa = try Self.register(WebAuthnVectors.packedEdDSA)
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.authenticate(v, eddsa) }
        // Cross-origin ceremonies (the page inside another site's frame) are refused.
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.register(WebAuthnVectors.crossOriginES256) }
    }

    @Test func userVerificationIsRequiredByDefault() throws {
        let strict = WebAuthnRelyingParty(id: "example.org", name: "Example", origins: ["https://example.org"])
        // The vectors' authenticator did not verify the user (flags 0x59 / 0x19: UP, BE, BS).
        #expect(throws: WebAuthnVerifier.Refusal.self) { try Self.register(WebAuthnVectors.noneES256, rp: strict) }
    }

    @Test func cborIsStrict() throws {
        #expect(try CBORDecoder.decode([0xa1, 0x01, 0x02]) == .map([(.unsigned(1), .unsigned(2))]))
        #expect(try CBORDecoder.decode([0x26]).int == -7)
        let refused: [[UInt8]] = [
            [],  // nothing
            [0x5f, 0x41, 0x00, 0xff],  // indefinite-length bytes
            [0x01, 0x02],  // trailing bytes
            [0xa2, 0x01, 0x02, 0x01, 0x03],  // duplicate key
            [0xc1, 0x01],  // a tag
            [0xf9, 0x3c, 0x00],  // a half float
            [0x5a, 0xff, 0xff, 0xff, 0xff, 0x00],  // a length beyond the input
            [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],  // an absurd array length
            Array(repeating: 0x81, count: 40) + [0x00],  // nested too deeply
            [0x62, 0xc3, 0x28],  // text that is not UTF-8
        ]
        for bytes in refused {
            #expect(throws: CBORDecoder.CBORError.self, "\(bytes)") { try CBORDecoder.decode(bytes) }
        }
        // Random input never crashes the decoder; mutations of a real authenticator data (so the
        // COSE key and its lengths are reached) never crash its parser, and a truncation of it
        // is always refused.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let bytes = (0..<Int.random(in: 0..<80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? CBORDecoder.decode(bytes)
        }
        guard case .bytes(let authData)? = try CBORDecoder.decode(hex(WebAuthnVectors.noneES256.attestationObject))["authData"] else {
            Issue.record("the vector has no authData")
            return
        }
        var parsed = 0
        for _ in 0..<5000 {
            var mutated = authData
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                mutated[Int.random(in: 32..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if (try? AuthenticatorData(mutated)) != nil { parsed += 1 }
        }
        #expect(parsed < 5000, "mutations reach the checks")
        for cut in 0..<authData.count {
            #expect(throws: (any Error).self) { try AuthenticatorData(Array(authData.prefix(cut))) }
        }
        // A truncated attestation object is refused, not crashed on.
        let attestation = hex(WebAuthnVectors.noneES256.attestationObject)
        for cut in stride(from: 1, to: attestation.count, by: 7) {
            #expect(throws: (any Error).self) {
                try WebAuthnVerifier(Self.rp).verifyRegistration(
                    clientDataJSON: hex(WebAuthnVectors.noneES256.registrationClientDataJSON), attestationObject: Array(attestation.prefix(cut)),
                    challenge: hex(WebAuthnVectors.noneES256.registrationChallenge))
            }
        }
    }
}
