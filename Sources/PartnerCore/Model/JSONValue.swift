import Foundation

/// Any JSON value, for free-form fields (a resource's `spec`, event `data`, audit `details`)
/// that pass through without a schema of their own.
public enum JSONValue: Sendable, Codable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(parsing text: String) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Whether a string or key anywhere inside holds NUL: jsonb cannot store `\u0000`
    /// (PostgreSQL answers 22P05), so such input must be refused before it gets there.
    var containsNUL: Bool {
        switch self {
        case .string(let text): text.unicodeScalars.contains("\u{0}")
        case .array(let values): values.contains { $0.containsNUL }
        case .object(let members): members.contains { $0.key.unicodeScalars.contains("\u{0}") || $0.value.containsNUL }
        case .null, .bool, .number: false
        }
    }
}
