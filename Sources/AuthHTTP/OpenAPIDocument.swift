import AuthMigrations
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// authd's OpenAPI 3.1 description (`Resources/openapi.json`, a package resource): served at
/// `GET /auth/openapi.json` and printed by `authd openapi`. It is written by hand and checked
/// against the router by `OpenAPITests` (every route and method, every error code), validated
/// with openapi-spec-validator, and fuzzed with schemathesis (`make fuzz`).
public enum OpenAPIDocument {
    /// The document's bytes; nil when the resource was not installed beside the binary.
    public static let data: Data? = {
        let installed = PackageResources.bundle(module: "AuthHTTP")?.appendingPathComponent("openapi.json")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/openapi.json")
        for url in [installed, source].compactMap({ $0 }) where FileManager.default.fileExists(atPath: url.path) {
            if let data = try? Data(contentsOf: url) { return data }
        }
        return nil
    }()
}
