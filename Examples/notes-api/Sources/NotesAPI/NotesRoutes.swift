import AuthClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// The example backend's routes: `GET /health` for anyone, `GET|POST /notes` for any caller
/// with a valid authd access token (each sees their own notes), `GET /admin/stats` for callers
/// holding authd's `tenant_admin` role (counts for the caller's tenant).
public enum NotesRoutes {
    struct NewNote: Decodable {
        var text: String
    }

    struct Stats: ResponseEncodable {
        var notes: Int
    }

    struct Listing: ResponseEncodable {
        var userId: UUID
        var tenantId: UUID
        var notes: [NoteBook.Note]
    }

    public static func router(auth: AuthClient, book: NoteBook) -> Router<NotesContext> {
        let router = Router(context: NotesContext.self)
        router.get("/health") { _, _ in "ok" }
        let notes = router.group("notes").add(middleware: auth.middleware())
        notes.get { _, context in
            let identity = try requireIdentity(context)
            return Listing(
                userId: identity.userID, tenantId: identity.tenantID,
                notes: await book.list(tenant: identity.tenantID, user: identity.userID))
        }
        notes.post { request, context in
            let identity = try requireIdentity(context)
            let body = try await request.decode(as: NewNote.self, context: context)
            guard !body.text.isEmpty, body.text.count <= 10_000 else { throw HTTPError(.badRequest, message: "text must be 1 to 10000 characters") }
            let note = await book.add(body.text, tenant: identity.tenantID, user: identity.userID)
            return EditedResponse(status: .created, response: note)
        }
        router.group("admin")
            .add(middleware: auth.middleware())
            .add(middleware: RequireAccess<NotesContext>.requireRoles(["tenant_admin"]))
            .get("stats") { _, context in
                // The admin's own tenant only: a tenant_admin of one tenant sees nothing of another.
                Stats(notes: await book.count(tenant: try requireIdentity(context).tenantID))
            }
        return router
    }

    static func requireIdentity(_ context: NotesContext) throws -> AuthIdentity {
        guard let identity = context.identity else { throw AuthClientError.noAuthProvided }
        return identity
    }
}

extension NoteBook.Note: ResponseEncodable {}
