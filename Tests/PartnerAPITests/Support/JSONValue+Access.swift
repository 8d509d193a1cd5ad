import Foundation
import PartnerCore

/// Reading answers in tests: `result.json["items"]?[0]?["id"]?.string`.
extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    subscript(index: Int) -> JSONValue? {
        guard case .array(let array) = self, array.indices.contains(index) else { return nil }
        return array[index]
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .number(let value) = self, value.rounded() == value { return Int(value) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    var uuid: UUID? { string.flatMap(UUID.init(uuidString:)) }

    var isNull: Bool { self == .null }

    /// The ids of a list answer's items.
    var itemIDs: [UUID] { (self["items"]?.array ?? []).compactMap { $0["id"]?.uuid } }
}

/// JSON text from a literal-like dictionary, for request bodies.
func json(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}
