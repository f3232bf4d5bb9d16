import AuthCore
import HTTPTypes
import Hummingbird

/// The `x-tenant-id` header of public routes (a tenant id or slug), checked before it is used.
enum TenantHeader {
    static func value(_ request: Request) throws -> String? {
        guard let named = request.headers[HTTPField.Name("x-tenant-id")!], !named.isEmpty else { return nil }
        guard named.utf8.count <= 64, !TextInput.hasControlCharacters(named) else {
            throw AuthError.invalidInput("x-tenant-id", "is not a tenant id or slug")
        }
        return named
    }
}
