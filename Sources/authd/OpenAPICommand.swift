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
            // An installation fault, not a usage error: no usage text, and not exit code 64.
            Console.error("error: the OpenAPI document is not installed (authd_AuthHTTP.resources/openapi.json beside the binary)")
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(data)
        if data.last != UInt8(ascii: "\n") { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}
