import Logging

/// What flows and hooks know about the HTTP request, without depending on Hummingbird — and
/// the request's logger, whose metadata (`request_id`, `tenant`) every line a flow logs for
/// this request carries.
public struct AuthRequest: Sendable {
    public var method: String
    public var path: String
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]
    public var ipAddress: String?
    public var logger: Logger

    public init(
        method: String = "POST", path: String = "/", headers: [String: String] = [:], ipAddress: String? = nil,
        logger: Logger = Logger(label: "authd")
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.ipAddress = ipAddress
        self.logger = logger
    }

    public var userAgent: String? { headers["user-agent"] }
}
