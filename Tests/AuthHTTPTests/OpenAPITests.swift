import AuthCore
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 20 item 1: the OpenAPI document and the router agree — every route and method authd
/// serves is described, nothing else is, and every error code authd can answer is in the error
/// envelope's schema.
@Suite struct OpenAPITests {
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static func document() throws -> JSONValue {
        let data = try #require(OpenAPIDocument.data, "Sources/AuthHTTP/Resources/openapi.json is missing")
        return try JSONValue.parse(String(decoding: data, as: UTF8.self))
    }

    /// `METHOD /path` of every operation in the document.
    static func described(_ document: JSONValue) -> Set<String> {
        var all: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in item.objectValue.keys where methods.contains(method) { all.insert("\(method.uppercased()) \(path)") }
        }
        return all
    }

    static func operations(_ document: JSONValue) -> [(String, JSONObject)] {
        var all: [(String, JSONObject)] = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, operation) in item.objectValue where methods.contains(method) {
                all.append(("\(method.uppercased()) \(path)", operation.objectValue))
            }
        }
        return all
    }

    @Test func everyRouteAndMethodIsDescribedAndNothingElse() async throws {
        let served = Locked<[String]>([])
        let document = try Self.document()
        try await TestApp.with(routes: { router, _ in
            // `/metrics` is on the public port unless AUTH_METRICS_PORT moves it.
            MetricsRoute(render: { [] }).register(on: router)
            served.withLock { $0 = router.routes.map { "\($0.method) \($0.path)" } }
        }) { _, client in
            let response = try await client.execute(uri: "/auth/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let servedDocument = try JSONValue.parse(String(buffer: response.body))
            #expect(servedDocument == document)
        }
        let routes = Set(served.value)
        let described = Self.described(document)
        #expect(routes.count > 90, "\(routes.count) routes: the router walk found too few")
        #expect(routes.subtracting(described).sorted() == [], "routes authd serves that the document does not describe")
        #expect(described.subtracting(routes).sorted() == [], "operations in the document that authd does not serve")
    }

    @Test func everyErrorCodeIsInTheEnvelopeAndEveryOperationDocumentsItsFailures() throws {
        let document = try Self.document()
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
        let error = document["components"]?["schemas"]?["Error"]
        // `code` is anyOf: authd's codes (an enum), or a hook's own.
        let codes = Set((error?["properties"]?["code"]?["anyOf"]?.arrayValue?.first?["enum"]?.arrayValue ?? []).compactMap(\.stringValue))
        let catalogue = Set(AuthErrorCode.all.map(\.rawValue))
        let httpLayer = Set(ErrorEnvelopeMiddleware<AuthRequestContext>.httpLayerCodes)
        #expect(catalogue.subtracting(codes).sorted() == [], "error codes missing from components.schemas.Error.code")
        #expect(httpLayer.subtracting(codes).sorted() == [], "the HTTP layer's codes missing from components.schemas.Error.code")
        #expect(codes.subtracting(catalogue.union(httpLayer)).sorted() == [], "codes in the document that authd cannot answer")
        #expect(Set(error?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["statusCode", "code", "message"])
        let schemes = Set((document["components"]?["securitySchemes"]?.objectValue ?? [:]).keys)
        #expect(schemes.isSuperset(of: ["bearer", "cookie", "apiKey"]), "\(schemes)")
        var operationIDs: Set<String> = []
        for (name, operation) in Self.operations(document) {
            let id = operation["operationId"]?.stringValue
            #expect(id != nil && operationIDs.insert(id ?? "").inserted, "\(name): operationId missing or repeated")
            let responses = operation["responses"]?.objectValue ?? [:]
            #expect(responses.keys.contains { $0.hasPrefix("2") || $0.hasPrefix("3") }, "\(name): no success response")
            #expect(responses["default"] != nil, "\(name): no default (error envelope) response")
            for code in operation["x-error-codes"]?.arrayValue ?? [] {
                #expect(codes.contains(code.stringValue ?? ""), "\(name): x-error-codes names \(code), not an authd code")
            }
        }
    }
}
