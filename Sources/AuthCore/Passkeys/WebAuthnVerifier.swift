import AuthCrypto
import Crypto

/// The relying party a ceremony is for: its RP ID (a registrable domain, `example.com`), its
/// name shown by authenticators, and the origins its pages are served from.
public struct WebAuthnRelyingParty: Sendable, Equatable {
    public var id: String
    public var name: String
    public var origins: [String]
    /// User verification (PIN, biometrics) is required: a passkey then counts as two factors.
    public var requireUserVerification: Bool

    public init(id: String, name: String, origins: [String], requireUserVerification: Bool = true) {
        self.id = id
        self.name = name
        self.origins = origins
        self.requireUserVerification = requireUserVerification
    }
}

/// A credential a registration ceremony proved.
public struct VerifiedRegistration: Sendable {
    public var credentialID: [UInt8]
    public var publicKey: COSEKey
    public var signCount: UInt32
    public var backupEligible: Bool
    public var backedUp: Bool
    public var aaguid: [UInt8]
    public var attestationFormat: String
}

/// The relying party's checks of WebAuthn Level 3 §7.1 (registration) and §7.2
/// (authentication), without storage: the flow finds the challenge and the credential, this
/// decides. Attestation: authd asks for `none`; a statement in another format is not verified
/// (its trust is not used for anything), only its structure.
public struct WebAuthnVerifier: Sendable {
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    let rp: WebAuthnRelyingParty

    /// IANA's registered attestation statement formats.
    static let attestationFormats: Set<String> = ["none", "packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple", "compound"]

    public init(_ rp: WebAuthnRelyingParty) {
        self.rp = rp
    }

    /// §7.1 steps 7–24 (5–6 are the caller's: the JSON's shape).
    public func verifyRegistration(clientDataJSON: [UInt8], attestationObject: [UInt8], challenge: [UInt8]) throws -> VerifiedRegistration {
        try checkClientData(clientDataJSON, type: "webauthn.create", challenge: challenge)
        let attestation: CBOR
        do { attestation = try CBORDecoder.decode(attestationObject) } catch { throw Refusal("attestationObject is not CBOR: \(error)") }
        guard case .text(let fmt)? = attestation["fmt"], case .map(let statement)? = attestation["attStmt"],
              case .bytes(let authBytes)? = attestation["authData"]
        else { throw Refusal("attestationObject lacks fmt, attStmt or authData") }
        // The registered formats only (IANA "WebAuthn Attestation Statement Format Identifiers"):
        // the value is recorded, and nothing else from a client reaches the audit trail.
        guard Self.attestationFormats.contains(fmt) else { throw Refusal("unknown attestation format") }
        if fmt == "none", !statement.isEmpty { throw Refusal("a none attestation carries a statement") }
        let data: AuthenticatorData
        do { data = try AuthenticatorData(authBytes) } catch { throw Refusal("authenticator data: \(error)") }
        try checkFlags(data)
        guard let credential = data.attested else { throw Refusal("no attested credential data") }
        return VerifiedRegistration(
            credentialID: credential.credentialID, publicKey: credential.publicKey, signCount: data.signCount,
            backupEligible: data.backupEligible, backedUp: data.backedUp, aaguid: credential.aaguid, attestationFormat: fmt)
    }

    /// §7.2 steps 10–22 for a stored credential; returns the authenticator data (new counter and
    /// backup state) for the caller to store.
    public func verifyAssertion(
        clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8], challenge: [UInt8], publicKey: COSEKey,
        storedSignCount: UInt32, backupEligible: Bool
    ) throws -> AuthenticatorData {
        try checkClientData(clientDataJSON, type: "webauthn.get", challenge: challenge)
        let data: AuthenticatorData
        do { data = try AuthenticatorData(authenticatorData) } catch { throw Refusal("authenticator data: \(error)") }
        guard data.attested == nil else { throw Refusal("an assertion carries attested credential data") }
        try checkFlags(data)
        // Backup eligibility is fixed when the credential is made.
        guard data.backupEligible == backupEligible else { throw Refusal("backup eligibility changed") }
        let signed = authenticatorData + Array(SHA256.hash(data: clientDataJSON))
        guard publicKey.isValidSignature(signature, for: signed) else { throw Refusal("bad signature") }
        // A counter that does not grow (when either side counts) means a cloned authenticator.
        if data.signCount != 0 || storedSignCount != 0, data.signCount <= storedSignCount {
            throw Refusal("signature counter did not increase (\(data.signCount) ≤ \(storedSignCount)): possible cloned authenticator")
        }
        return data
    }

    private func checkClientData(_ bytes: [UInt8], type: String, challenge: [UInt8]) throws {
        let client: CollectedClientData
        do { client = try CollectedClientData(bytes) } catch { throw Refusal("\(error)") }
        guard client.type == type else { throw Refusal("clientData type is \(client.type), not \(type)") }
        guard ConstantTime.equals(client.challenge, challenge) else { throw Refusal("challenge mismatch") }
        guard rp.origins.contains(client.origin) else { throw Refusal("origin \(client.origin) is not one of the relying party's") }
        // authd's pages are not framed by other sites.
        guard !client.crossOrigin, client.topOrigin == nil else { throw Refusal("cross-origin ceremony") }
    }

    private func checkFlags(_ data: AuthenticatorData) throws {
        guard ConstantTime.equals(data.rpIDHash, Array(SHA256.hash(data: Array(rp.id.utf8)))) else { throw Refusal("rpIdHash mismatch") }
        guard data.userPresent else { throw Refusal("user not present") }
        if rp.requireUserVerification, !data.userVerified { throw Refusal("user not verified") }
    }
}
