import Foundation
import PartnerCore

/// The shipped OpenAPI document, read from the source tree, with just enough of a schema
/// validator to check answers structurally: types, required keys, enums, formats of ids and
/// times, array items, `$ref`, `allOf`/`oneOf`/`anyOf` and `nullable`.
struct OpenAPIDocument: Sendable {
    let data: Data
    let root: JSONValue

    static let methods = ["get", "put", "post", "delete", "patch"]

    static func load() throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/PartnerAPI/Resources/openapi.json")
        let data = try Data(contentsOf: url)
        return OpenAPIDocument(data: data, root: try JSONDecoder().decode(JSONValue.self, from: data))
    }

    /// Every operation as "METHOD /path/{template}".
    var operations: Set<String> {
        var result: Set<String> = []
        for (path, item) in root["paths"]?.object ?? [:] {
            for method in Self.methods where item[method] != nil {
                result.insert("\(method.uppercased()) \(path)")
            }
        }
        return result
    }

    func operation(_ method: String, _ template: String) -> JSONValue? {
        root["paths"]?[template]?[method.lowercased()]
    }

    /// The statuses the document lists for an operation.
    func statuses(_ method: String, _ template: String) -> Set<Int> {
        Set((operation(method, template)?["responses"]?.object ?? [:]).keys.compactMap(Int.init))
    }

    /// The JSON schema of the answer with `status`, or nil when the status is not documented.
    func responseSchema(_ method: String, _ template: String, status: Int) -> JSONValue? {
        guard let response = operation(method, template)?["responses"]?[String(status)] else { return nil }
        return resolve(response)["content"]?["application/json"]?["schema"]
    }

    func resolve(_ value: JSONValue) -> JSONValue {
        guard let reference = value["$ref"]?.string, reference.hasPrefix("#/") else { return value }
        var node = root
        for part in reference.dropFirst(2).split(separator: "/") {
            guard let next = node[String(part)] else { return .null }
            node = next
        }
        return resolve(node)
    }

    func schema(_ name: String) -> JSONValue {
        root["components"]?["schemas"]?[name] ?? .null
    }

    /// Where `value` breaks `schema`; empty when it conforms.
    func violations(of value: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        let schema = resolve(schema)
        var problems: [String] = []
        for part in schema["allOf"]?.array ?? [] {
            problems += violations(of: value, against: part, at: path)
        }
        for keyword in ["oneOf", "anyOf"] {
            if let options = schema[keyword]?.array,
                !options.contains(where: { violations(of: value, against: $0, at: path).isEmpty })
            {
                problems.append("\(path): matches none of \(keyword)")
            }
        }
        if value.isNull {
            if schema["nullable"]?.bool != true, schema["type"] != nil { problems.append("\(path): null is not allowed") }
            return problems
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) {
            problems.append("\(path): \(value) is not one of the enum")
        }
        switch schema["type"]?.string {
        case "object":
            guard let object = value.object else { return problems + ["\(path): not an object"] }
            for required in schema["required"]?.array ?? [] {
                if let key = required.string, object[key] == nil { problems.append("\(path): missing \(key)") }
            }
            let properties = schema["properties"]?.object ?? [:]
            for (key, member) in object {
                if let property = properties[key] {
                    problems += violations(of: member, against: property, at: "\(path).\(key)")
                } else if schema["additionalProperties"]?.bool == false {
                    problems.append("\(path): unexpected \(key)")
                }
            }
        case "array":
            guard let array = value.array else { return problems + ["\(path): not an array"] }
            if let items = schema["items"] {
                for (index, item) in array.enumerated() {
                    problems += violations(of: item, against: items, at: "\(path)[\(index)]")
                }
            }
            if let maximum = schema["maxItems"]?.int, array.count > maximum { problems.append("\(path): more than \(maximum) items") }
        case "string":
            guard let string = value.string else { return problems + ["\(path): not a string"] }
            switch schema["format"]?.string {
            case "uuid" where UUID(uuidString: string) == nil:
                problems.append("\(path): \(string) is not a UUID")
            case "date-time" where (try? Date(string, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))) == nil
                && (try? Date(string, strategy: .iso8601)) == nil:
                problems.append("\(path): \(string) is not a date-time")
            default: break
            }
        case "integer":
            guard value.int != nil else { return problems + ["\(path): not an integer"] }
            if let minimum = schema["minimum"]?.int, let int = value.int, int < minimum { problems.append("\(path): below \(minimum)") }
        case "number":
            guard case .number = value else { return problems + ["\(path): not a number"] }
        case "boolean":
            guard value.bool != nil else { return problems + ["\(path): not a boolean"] }
        default:
            break
        }
        return problems
    }
}
