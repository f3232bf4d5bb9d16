import PGKit

/// Calls an operator's SQL hook function `schema.fn(payload jsonb) returns jsonb` on the flow's
/// own connection, inside its transaction, under a transaction-local `statement_timeout`
/// (DESIGN.md §4). The function's name is quoted by libpq.
struct SQLHookStore: Sendable {
    /// The function's result as JSON text (nil for SQL NULL).
    func call(schema: String, function: String, payload: String, timeout: Duration, in tx: PGTransaction) async throws -> String? {
        let quotedSchema = try await tx.escapeIdentifier(schema)
        let quotedFunction = try await tx.escapeIdentifier(function)
        let target = "\(quotedSchema).\(quotedFunction)"
        let saved = try await tx.query("SELECT current_setting('statement_timeout') AS t").first?.decode("t", as: String.self) ?? "0"
        try await tx.query("SELECT set_config('statement_timeout', $1, true)", "\(Int(timeout.timeInterval * 1000))")
        // The function's name is in the text, which may differ per tenant: never prepared.
        let rows = try await tx.queryUnprepared("SELECT (\(target)($1::jsonb))::text AS result", [PGBind.jsonb(payload)])
        try await tx.query("SELECT set_config('statement_timeout', $1, true)", saved)
        return try rows.first?.decode("result", as: String?.self)
    }
}
