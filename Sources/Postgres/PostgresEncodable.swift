import Foundation

/// One bound parameter as it goes to libpq: bytes in text or binary format, with a type OID.
///
/// OID 0 lets the server infer the type from context, which keeps plain strings usable
/// against `uuid`, `text`, enum-like `text` checks and so on without casts in the SQL.
public struct PostgresParameter: Sendable, Equatable {
    public enum Format: Int32, Sendable { case text = 0, binary = 1 }
    public var bytes: [UInt8]
    public var format: Format
    public var oid: UInt32

    public init(text: String, oid: UInt32) {
        self.bytes = Array(text.utf8)
        self.format = .text
        self.oid = oid
    }

    public init(binary: [UInt8], oid: UInt32) {
        self.bytes = binary
        self.format = .binary
        self.oid = oid
    }
}

/// The built-in type OIDs the driver binds.
public enum PostgresOID {
    public static let unspecified: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let float8: UInt32 = 701
    public static let textArray: UInt32 = 1009
    public static let int8Array: UInt32 = 1016
    public static let timestamptz: UInt32 = 1184
    public static let uuid: UInt32 = 2950
    public static let uuidArray: UInt32 = 2951
    public static let jsonb: UInt32 = 3802
}

/// A Swift value that can be sent as a query parameter.
public protocol PostgresEncodable: Sendable {
    var postgresParameter: PostgresParameter { get }
}

extension String: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(text: self, oid: PostgresOID.unspecified) }
}

extension Int: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(text: String(self), oid: PostgresOID.int8) }
}

extension Int64: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(text: String(self), oid: PostgresOID.int8) }
}

extension Int32: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(text: String(self), oid: PostgresOID.int4) }
}

extension Bool: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(text: self ? "t" : "f", oid: PostgresOID.bool) }
}

extension Double: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        let text: String
        if isNaN { text = "NaN" } else if self == .infinity { text = "Infinity" } else if self == -.infinity {
            text = "-Infinity"
        } else { text = "\(self)" }
        return .init(text: text, oid: PostgresOID.float8)
    }
}

extension UUID: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(text: lowercasedString, oid: PostgresOID.uuid) }
}

extension Date: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        .init(text: PostgresTimestamp.format(self), oid: PostgresOID.timestamptz)
    }
}

/// bytea goes in binary format: no escaping, no doubling of the size.
extension Data: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(binary: [UInt8](self), oid: PostgresOID.bytea) }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresParameter: PostgresParameter {
        let body = map { $0.postgresArrayLiteral }.joined(separator: ",")
        return .init(text: "{\(body)}", oid: Element.postgresArrayOID)
    }
}

/// Element types that `Array` can bind as a PostgreSQL array literal.
public protocol PostgresArrayElement: Sendable {
    static var postgresArrayOID: UInt32 { get }
    var postgresArrayLiteral: String { get }
}

extension UUID: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresOID.uuidArray }
    public var postgresArrayLiteral: String { lowercasedString }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresOID.int8Array }
    public var postgresArrayLiteral: String { String(self) }
}

extension String: PostgresArrayElement {
    public static var postgresArrayOID: UInt32 { PostgresOID.textArray }
    /// Every element is quoted, with `"` and `\` escaped, so commas, braces and the word
    /// NULL arrive as literal text.
    public var postgresArrayLiteral: String {
        var quoted = "\""
        for character in self {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}

/// A JSON document bound as `jsonb`.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Equatable {
    public var text: String

    public init(text: String) { self.text = text }

    /// Encodes any `Encodable` value with sorted keys, so equal values give equal bytes.
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(text.utf8))
    }

    public var postgresParameter: PostgresParameter { .init(text: text, oid: PostgresOID.jsonb) }

    public init(postgresText text: Substring) throws { self.text = String(text) }
}
