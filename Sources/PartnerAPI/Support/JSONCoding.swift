import Foundation
import Synchronization

/// The API's JSON: snake_case keys outside, camelCase Swift inside, ISO 8601 dates, and
/// free-form objects (`spec`, `data`, `details`) passed through with their keys untouched.
/// Answers are written by `JSONStreamEncoder`; request bodies are read by `decoder`.
enum JSONCoding {
    /// Keys under these properties belong to the client, not to our schema.
    static let freeFormKeys: Set<String> = ["spec", "data", "details"]

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
                return date
            }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date-time"))
        }
        return decoder
    }()

    /// Snake-case names by Swift name: the set of property names is small and fixed, and
    /// converting each key of every answer anew showed up in profiles of the buy path.
    static let snakeNames = NameCache()

    final class NameCache: Sendable {
        private let names = Mutex<[String: String]>([:])

        func name(for key: String) -> String {
            // Most keys (`id`, `type`, `state`) are their own snake-case name: no lock, no lookup.
            if key.utf8.allSatisfy({ $0 < 0x80 && !(0x41...0x5A).contains($0) }) { return key }
            if let name = names.withLock({ $0[key] }) { return name }
            let name = snakeCase(key)
            names.withLock { $0[key] = name }
            return name
        }
    }

    static func snakeCase(_ text: String) -> String {
        var result = ""
        for character in text {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
