/// The rows of one result, copied out of the `PGresult` so the result can be cleared at once.
///
/// Values are kept in PostgreSQL's text form; `NULL` is `nil`. Columns are addressed by
/// position or by name.
public struct PostgresRows: Sendable, RandomAccessCollection {
    public let columns: [String]
    /// Row-major cells: `cells[row * columns.count + column]`.
    let cells: [String?]
    /// Rows changed by an INSERT/UPDATE/DELETE (`PQcmdTuples`), 0 otherwise.
    public let affectedRows: Int

    init(columns: [String], cells: [String?], affectedRows: Int) {
        self.columns = columns
        self.cells = cells
        self.affectedRows = affectedRows
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { columns.isEmpty ? 0 : cells.count / columns.count }

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(rows: self, offset: position * columns.count)
    }

    /// The single row of a result that must have exactly one.
    public func single() throws -> PostgresRow {
        guard count == 1 else {
            throw PostgresError(code: .protocolViolation, message: "expected one row, got \(count)")
        }
        return self[0]
    }
}

/// One row of a `PostgresRows`.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let offset: Int

    public var columns: [String] { rows.columns }

    /// The raw text of a column, `nil` for SQL NULL.
    public subscript(_ column: Int) -> String? { rows.cells[offset + column] }

    func index(of name: String) throws -> Int {
        guard let index = rows.columns.firstIndex(of: name) else {
            throw PostgresError(code: .decoding, message: "the result has no column named \(name)")
        }
        return index
    }

    /// Decodes a non-NULL column; NULL is a decoding error.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard let text = self[column] else {
            throw PostgresError(code: .decoding, message: "column \(rows.columns[column]) is NULL, expected \(T.self)")
        }
        return try T(postgresText: Substring(text))
    }

    /// Decodes a nullable column.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T?.Type = T?.self) throws -> T? {
        guard let text = self[column] else { return nil }
        return try T(postgresText: Substring(text))
    }

    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try decode(index(of: name), as: T.self)
    }

    public func decode<T: PostgresDecodable>(_ name: String, as type: T?.Type = T?.self) throws -> T? {
        try decode(index(of: name), as: T?.self)
    }
}
