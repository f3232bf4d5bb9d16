import CLibPQ

/// The rows of one statement, copied out of the libpq result on the thread that ran it.
///
/// A `PGresult*` is not Sendable and must be cleared on the thread that owns the connection,
/// so results are copied into this value before they cross back into async code.
public struct PGRows: Sendable, RandomAccessCollection {
    /// Column names in result order.
    public let columns: [String]
    /// The command tag, e.g. `INSERT 0 1` or `COMMIT`.
    public let commandStatus: String
    /// Rows affected by INSERT/UPDATE/DELETE (0 for others).
    public let affectedRows: Int
    let values: [[String?]]
    let index: [String: Int]

    init(result: OpaquePointer) {
        let nRows = Int(PQntuples(result))
        let nCols = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(nCols)
        for c in 0..<nCols { columns.append(String(cString: PQfname(result, Int32(c)))) }
        var values: [[String?]] = []
        values.reserveCapacity(nRows)
        for r in 0..<nRows {
            var row: [String?] = []
            row.reserveCapacity(nCols)
            for c in 0..<nCols {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            values.append(row)
        }
        self.columns = columns
        self.values = values
        self.commandStatus = String(cString: PQcmdStatus(result))
        self.affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() where index[name] == nil { index[name] = i }
        self.index = index
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }
    public subscript(position: Int) -> PGRow { PGRow(rows: self, row: position) }
}

/// One row of a `PGRows`, read by column name or position with typed decoding.
public struct PGRow: Sendable {
    let rows: PGRows
    let row: Int

    /// The raw text of a column (nil for NULL or an unknown column).
    public subscript(column: String) -> String? {
        guard let c = rows.index[column] else { return nil }
        return rows.values[row][c]
    }

    /// Decodes a non-NULL column; throws when it is missing, NULL or not a valid `T`.
    public func decode<T: PGDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decode(column, as: T?.self) else {
            throw PGError(.decoding, "column \(column) is NULL")
        }
        return value
    }

    /// Decodes a nullable column.
    public func decode<T: PGDecodable>(_ column: String, as type: T?.Type) throws -> T? {
        guard let c = rows.index[column] else { throw PGError(.decoding, "no column \(column)") }
        guard let text = rows.values[row][c] else { return nil }
        guard let value = T(pgText: text) else {
            throw PGError(.decoding, "column \(column) is not a valid \(T.self)")
        }
        return value
    }

    /// Decodes the column at `position`.
    public func decode<T: PGDecodable>(at position: Int, as type: T.Type = T.self) throws -> T {
        guard position < rows.columns.count else { throw PGError(.decoding, "no column #\(position)") }
        return try decode(rows.columns[position], as: T.self)
    }
}
