extension PostgresRow {
    /// Decodes the row's first columns, in order, into a tuple:
    /// `let (id, name) = try row.decode((UUID, String).self)`. Each element is decoded as
    /// `decode(_:as:)` decodes its column: NULL in any of them is a decoding error.
    public func decode<each Value: PostgresDecodable>(_ types: (repeat each Value).Type) throws -> (repeat each Value) {
        var column = 0
        func next<Element: PostgresDecodable>(_ type: Element.Type) throws -> Element {
            defer { column += 1 }
            return try decode(column, as: Element.self)
        }
        return (repeat try next((each Value).self))
    }
}
