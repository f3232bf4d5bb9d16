/// What flows and hooks know about the HTTP request, without depending on Hummingbird.
public struct AuthRequest: Sendable {
    public var method: String
    public var path: String
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]
    public var ipAddress: String?

    public init(method: String = "POST", path: String = "/", headers: [String: String] = [:], ipAddress: String? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.ipAddress = ipAddress
    }

    public var userAgent: String? { headers["user-agent"] }
}
