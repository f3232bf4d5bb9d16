#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// `GET /auth/openapi.json`: the API description, for client generators and fuzzers.
struct OpenAPIRoute: Sendable {
    let document: Data

    func register(on router: Router<AuthRequestContext>) {
        let body = ByteBuffer(bytes: document)
        router.get("/auth/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: body))
        }
    }
}
