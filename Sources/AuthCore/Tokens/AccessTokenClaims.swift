#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JWTKit

/// The claims of an access token (DESIGN.md §6) plus whatever `customizeTokenPayload` added.
/// Reserved claims cannot be overridden by custom ones.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public var issuer: String
    public var audience: String
    public var subject: String
    public var issuedAt: Date
    public var expiresAt: Date
    public var notBefore: Date?
    public var tokenID: String
    public var sessionID: String
    public var tenantID: String
    public var roles: [String]
    public var permissions: [String]?
    public var isMfaEnabled: Bool
    public var isMfaVerified: Bool
    /// `access` — a refresh token is opaque, so nothing else may carry this value.
    public var type: String
    public var custom: JSONObject
    /// `sessionId`, `tenantId` and `sub` parsed once, when the claims are made or decoded: the
    /// guard compares them on every request, and parsing a UUID from text is not free.
    public private(set) var sessionUUID: UUID?
    public private(set) var tenantUUID: UUID?
    public private(set) var subjectUUID: UUID?

    static let reserved: Set<String> = [
        "iss", "aud", "sub", "iat", "exp", "nbf", "jti", "sessionId", "tenantId", "roles", "permissions",
        "isMfaEnabled", "isMfaVerified", "type",
    ]

    public init(
        issuer: String, audience: String, subject: String, issuedAt: Date, expiresAt: Date, tokenID: String,
        sessionID: String, tenantID: String, roles: [String], permissions: [String]?, isMfaEnabled: Bool,
        isMfaVerified: Bool, custom: JSONObject = [:]
    ) {
        self.issuer = issuer
        self.audience = audience
        self.subject = subject
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.tokenID = tokenID
        self.sessionID = sessionID
        self.tenantID = tenantID
        self.roles = roles
        self.permissions = permissions
        self.isMfaEnabled = isMfaEnabled
        self.isMfaVerified = isMfaVerified
        self.type = "access"
        self.custom = custom.filter { !Self.reserved.contains($0.key) }
        parseIDs()
    }

    private mutating func parseIDs() {
        sessionUUID = UUID(uuidString: sessionID)
        tenantUUID = UUID(uuidString: tenantID)
        subjectUUID = UUID(uuidString: subject)
    }

    /// Signature checks happen in jwt-kit; time and audience checks in `TokenService`, so an
    /// expired but authentic token can be told apart from a forged one.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        issuer = try c.decode(String.self, forKey: Key("iss"))
        audience = try Self.decodeAudience(c)
        subject = try c.decode(String.self, forKey: Key("sub"))
        issuedAt = Date(timeIntervalSince1970: try c.decode(Double.self, forKey: Key("iat")))
        expiresAt = Date(timeIntervalSince1970: try c.decode(Double.self, forKey: Key("exp")))
        notBefore = try c.decodeIfPresent(Double.self, forKey: Key("nbf")).map { Date(timeIntervalSince1970: $0) }
        tokenID = try c.decode(String.self, forKey: Key("jti"))
        sessionID = try c.decode(String.self, forKey: Key("sessionId"))
        tenantID = try c.decode(String.self, forKey: Key("tenantId"))
        roles = try c.decodeIfPresent([String].self, forKey: Key("roles")) ?? []
        permissions = try c.decodeIfPresent([String].self, forKey: Key("permissions"))
        isMfaEnabled = try c.decodeIfPresent(Bool.self, forKey: Key("isMfaEnabled")) ?? false
        isMfaVerified = try c.decodeIfPresent(Bool.self, forKey: Key("isMfaVerified")) ?? false
        type = try c.decode(String.self, forKey: Key("type"))
        var custom: JSONObject = [:]
        for key in c.allKeys where !Self.reserved.contains(key.stringValue) {
            custom[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
        }
        self.custom = custom
        parseIDs()
    }

    private static func decodeAudience(_ c: KeyedDecodingContainer<Key>) throws -> String {
        if let single = try? c.decode(String.self, forKey: Key("aud")) { return single }
        return try c.decode([String].self, forKey: Key("aud")).first ?? ""
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (key, value) in custom where !Self.reserved.contains(key) { try c.encode(value, forKey: Key(key)) }
        try c.encode(issuer, forKey: Key("iss"))
        try c.encode(audience, forKey: Key("aud"))
        try c.encode(subject, forKey: Key("sub"))
        try c.encode(Int(issuedAt.timeIntervalSince1970), forKey: Key("iat"))
        try c.encode(Int(expiresAt.timeIntervalSince1970), forKey: Key("exp"))
        try c.encodeIfPresent(notBefore.map { Int($0.timeIntervalSince1970) }, forKey: Key("nbf"))
        try c.encode(tokenID, forKey: Key("jti"))
        try c.encode(sessionID, forKey: Key("sessionId"))
        try c.encode(tenantID, forKey: Key("tenantId"))
        try c.encode(roles, forKey: Key("roles"))
        try c.encodeIfPresent(permissions, forKey: Key("permissions"))
        try c.encode(isMfaEnabled, forKey: Key("isMfaEnabled"))
        try c.encode(isMfaVerified, forKey: Key("isMfaVerified"))
        try c.encode(type, forKey: Key("type"))
    }

    /// The claims as JSON (what `customizeTokenPayload` receives).
    public var json: JSONObject {
        var o = custom
        o["iss"] = .string(issuer)
        o["aud"] = .string(audience)
        o["sub"] = .string(subject)
        o["iat"] = .int(Int(issuedAt.timeIntervalSince1970))
        o["exp"] = .int(Int(expiresAt.timeIntervalSince1970))
        o["jti"] = .string(tokenID)
        o["sessionId"] = .string(sessionID)
        o["tenantId"] = .string(tenantID)
        o["roles"] = .array(roles.map(JSONValue.string))
        if let permissions { o["permissions"] = .array(permissions.map(JSONValue.string)) }
        o["isMfaEnabled"] = .bool(isMfaEnabled)
        o["isMfaVerified"] = .bool(isMfaVerified)
        o["type"] = .string(type)
        return o
    }
}
