import ArgumentParser
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// `authd openapi`: prints the OpenAPI 3.1 document `GET /auth/openapi.json` serves.
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the OpenAPI 3.1 description of the HTTP API.")

    func run() throws {
        guard let data = OpenAPIDocument.data else {
            throw ValidationError("the OpenAPI document is not installed (authd_AuthHTTP.resources/openapi.json beside the binary)")
        }
        FileHandle.standardOutput.write(data)
        if data.last != UInt8(ascii: "\n") { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}
