import Logging

/// The request-scoped metadata of authd's log lines, `request_id` and `tenant`, kept in task
/// locals and added by a metadata provider only when a line is actually written. (Setting them
/// on each request's logger made swift-log's stream handler re-render its metadata every time:
/// 7 % of a guarded request's CPU.) The HTTP layer binds `requestID`, the guard and the flows
/// bind `tenant` once they know it; every logger made after `LoggingSystem.bootstrap(…,
/// metadataProvider: LogMetadata.provider)` — the request loggers included — carries them.
public enum LogMetadata {
    @TaskLocal public static var requestID: String?
    @TaskLocal public static var tenant: String?

    /// Adds `request_id` and `tenant` to a line logged inside their scope.
    public static let provider = Logger.MetadataProvider {
        var metadata: Logger.Metadata = [:]
        if let requestID { metadata["request_id"] = .string(requestID) }
        if let tenant { metadata["tenant"] = .string(tenant) }
        return metadata
    }

    /// Runs `body` with `tenant` in every line it logs.
    public static func withTenant<T>(_ slug: String, _ body: () async throws -> T) async rethrows -> T {
        try await $tenant.withValue(slug, operation: body)
    }
}
