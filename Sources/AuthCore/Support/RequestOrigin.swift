/// Where the request being served came from, for the audit row its events write (requirement 23:
/// IP, user agent, request id). A task local bound once per request by the HTTP layer, so that
/// every event a flow appends — in any store, embedded in any statement — carries it without
/// each flow passing it along. Outside a request (CLI, consumers) it is nil.
public struct RequestOrigin: Sendable, Equatable {
    public var ipAddress: String?
    public var userAgent: String?
    public var requestID: String?

    @TaskLocal public static var current: RequestOrigin?

    /// Who the request acts as, once the guard knows (`Principal.auditActor`): the actor of the
    /// events it causes that name none of their own (an admin revoking a session, say).
    @TaskLocal public static var actor: JSONObject?

    public init(ipAddress: String?, userAgent: String?, requestID: String?) {
        self.ipAddress = ipAddress
        // Bounded: it is stored with every event and audit row.
        self.userAgent = userAgent.map { String($0.prefix(512)) }
        self.requestID = requestID
    }

    /// The JSON stored in `auth.events.request`.
    var json: JSONObject {
        var o: JSONObject = [:]
        if let ipAddress { o["ip"] = .string(ipAddress) }
        if let userAgent { o["userAgent"] = .string(userAgent) }
        if let requestID { o["requestId"] = .string(requestID) }
        return o
    }
}
