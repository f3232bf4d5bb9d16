import PGKit
import Testing
@testable import AuthCore

/// The one mapping from database failures to what clients see (issue: a PostgreSQL restart
/// answered 500; a raw PGError reached the HTTP layer).
@Suite struct DatabaseErrorsTests {
    @Test(arguments: [
        PGError(.connection, "server closed the connection unexpectedly"),
        PGError(.acquireTimeout, "no database connection free"),
        PGError(.shutDown, "pool is shut down"),
        PGError(.connection, "terminating connection due to administrator command", sqlState: "57P01"),
        PGError(.server, "the database system is starting up", sqlState: "57P03"),
        PGError(.server, "sorry, too many clients already", sqlState: "53300"),
        PGError(.server, "cannot execute INSERT in a read-only transaction", sqlState: "25006"),
        PGError(.server, "could not serialize access", sqlState: "40001"),
        PGError(.server, "deadlock detected", sqlState: "40P01"),
    ])
    func outagesAre503WithRetryAfter(_ error: PGError) {
        let mapped = DatabaseErrors.map(error, tenantGone: false)
        #expect(mapped.status == 503 && mapped.code == "SERVICE_UNAVAILABLE")
        #expect(mapped.retryAfter != nil)
        #expect(mapped.cause != nil, "the cause is kept for the log")
        #expect(!mapped.message.contains("server") && !mapped.message.contains("connection"), "nothing of the database reaches the client")
    }

    @Test func aMissingTableIsTenantNotFoundOnlyWhenTheTenantIsGone() {
        let missing = PGError(.server, "relation \"sessions\" does not exist", sqlState: "42P01")
        #expect(DatabaseErrors.map(missing, tenantGone: true).code == "TENANT_NOT_FOUND")
        #expect(DatabaseErrors.map(missing, tenantGone: false).code == "INTERNAL_ERROR", "a tenant that exists, or a global table: a fault")
    }

    @Test func faultsAre500AndNULIsBadInput() {
        #expect(DatabaseErrors.map(PGError(.server, "syntax error", sqlState: "42601"), tenantGone: false).status == 500)
        #expect(DatabaseErrors.map(PGError(.decoding, "column x is NULL"), tenantGone: false).status == 500)
        let nul = DatabaseErrors.map(PGError(.invalidParameter, "parameter $1 contains a NUL character"), tenantGone: false)
        #expect(nul.status == 400 && nul.code == "INVALID_INPUT")
    }
}
