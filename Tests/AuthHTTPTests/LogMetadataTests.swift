import AuthCore
import HTTPTypes
import Logging
import TestSupport
import Testing

/// Every line logged for a request carries its `request_id` (the one answered in
/// `x-request-id`) and its `tenant`, flows and hooks included.
@Suite struct LogMetadataTests {
    /// Keeps what was logged, metadata merged as a real handler would (provider included).
    struct Capture: LogHandler {
        let lines: Locked<[(message: String, metadata: Logger.Metadata)]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            merged.merge(metadataProvider?.get() ?? [:]) { $1 }
            merged.merge(event.metadata ?? [:]) { $1 }
            lines.withLock { $0.append(("\(event.message)", merged)) }
        }
    }

    @Test func aFlowsLogLineCarriesTheRequestIDAndTenant() async throws {
        let lines = Locked<[(message: String, metadata: Logger.Metadata)]>([])
        let logger = Logger(label: "test", factory: { _ in Capture(lines: lines, metadataProvider: LogMetadata.provider) })
        try await TestApp.with(sqlHooks: try SQLHookTests.bindings(), logger: logger) { app, client in
            try await app.pool.withConnection { try await $0.execute(SQLHookTests.functions) }
            // The after-create hook divides by zero for this address: the flow logs the failure.
            let r = try await client.call(
                .post, "/auth/signup", json: .object(["email": .string("broken@example.com"), "password": .string("correct horse battery")]),
                headers: ["x-request-id": "req-42"])
            #expect(r.code == "HOOK_FAILED")
            #expect(r.headers[HTTPField.Name("x-request-id")!] == "req-42")
        }
        let failure = lines.value.first { $0.message == "SQL hook failed" }
        #expect(failure?.metadata["request_id"] == .string("req-42"), "\(lines.value.map(\.message))")
        #expect(failure?.metadata["tenant"] == .string("default"))
    }
}
