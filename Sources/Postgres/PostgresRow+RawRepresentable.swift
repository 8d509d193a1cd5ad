extension PostgresRow {
    /// Decodes a column into an enum (any `RawRepresentable`) by its raw value. A value the
    /// type has no case for is a decoding error, never a default: a status the code does not
    /// know must not pass for "active" in an authorization check. The value is not quoted in
    /// the message.
    public func decode<T: RawRepresentable>(_ column: Int, as type: T.Type = T.self) throws -> T
    where T.RawValue: PostgresDecodable {
        try Self.value(of: T.self, from: decode(column, as: T.RawValue.self), column: rows.columns[column])
    }

    /// Decodes a nullable enum column; NULL is nil, an unknown value an error.
    public func decode<T: RawRepresentable>(_ column: Int, as type: T?.Type = T?.self) throws -> T?
    where T.RawValue: PostgresDecodable {
        try decode(column, as: T.RawValue?.self).map { try Self.value(of: T.self, from: $0, column: rows.columns[column]) }
    }

    private static func value<T: RawRepresentable>(of type: T.Type, from raw: T.RawValue, column: String) throws -> T {
        guard let value = T(rawValue: raw) else {
            throw PostgresError(code: .decoding, message: "column \(column) holds a value that is not a \(T.self)")
        }
        return value
    }
}
