import Foundation
import PartnerCore
import Postgres
import Testing

@testable import PartnerAPI

/// The encoder every answer goes through: valid JSON for nested, optional and escaped
/// values; snake_case keys except under free-form properties; jsonb passed through; dates
/// as Foundation's ISO 8601 with milliseconds would write them.
@Suite("JSON answers")
struct JSONStreamEncoderTests {
    struct Inner: Encodable {
        var someValue: Int
        var note: String?
    }

    struct Sample: Encodable {
        var orderId: UUID
        var nestedItems: [Inner]
        var emptyList: [Int]
        var missing: String?
        var spec: PostgresJSON
        var details: [String: JSONValue]
        var text: String
        var ratio: Double
        var flag: Bool
        var matrix: [[Int]]
    }

    /// A hand-written conformance that asks for its container twice and uses nested
    /// containers and `superEncoder`, which synthesized ones never do.
    struct Unusual: Encodable {
        enum Keys: String, CodingKey { case firstName, inner, list, base }
        func encode(to encoder: any Encoder) throws {
            var first = encoder.container(keyedBy: Keys.self)
            try first.encode("a", forKey: .firstName)
            var nested = first.nestedContainer(keyedBy: Keys.self, forKey: .inner)
            try nested.encodeNil(forKey: .firstName)
            var list = first.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            var listed = list.nestedContainer(keyedBy: Keys.self)
            try listed.encode(true, forKey: .firstName)
            var again = encoder.container(keyedBy: Keys.self)
            try Inner(someValue: 7, note: nil).encode(to: again.superEncoder(forKey: .base))
        }
    }

    func object(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test func answersAreValidJSONWithTheAPIsKeys() throws {
        let id = UUID()
        let sample = Sample(
            orderId: id, nestedItems: [Inner(someValue: 1, note: "x"), Inner(someValue: 2, note: nil)], emptyList: [],
            missing: nil, spec: try PostgresJSON(encoding: JSONValue.object(["cpuCount": .number(2), "Nested_Key": .array([.null])])),
            details: ["orderId": .string("kept"), "deep": .object(["camelCase": .bool(true)])],
            text: "quote \" backslash \\ newline \n tab \t bell \u{7} é 😀 </script>", ratio: 0.25, flag: false,
            matrix: [[1, 2], [], [3]])
        let data = try JSONStreamEncoder.encode(sample)
        let expected: NSDictionary = [
            "order_id": id.uuidString.lowercased(),
            "nested_items": [["some_value": 1, "note": "x"], ["some_value": 2]],
            "empty_list": [Int](),
            "spec": ["cpuCount": 2, "Nested_Key": [NSNull()]],
            "details": ["orderId": "kept", "deep": ["camelCase": true]],
            "text": "quote \" backslash \\ newline \n tab \t bell \u{7} é 😀 </script>",
            "ratio": 0.25, "flag": false, "matrix": [[1, 2], [Int](), [3]],
        ]
        #expect(try object(data) == expected)
    }

    @Test func unusualConformancesStillMakeValidJSON() throws {
        let expected: NSDictionary = [
            "first_name": "a", "inner": ["first_name": NSNull()], "list": [1, ["first_name": true]],
            "base": ["some_value": 7],
        ]
        #expect(try object(JSONStreamEncoder.encode(Unusual())) == expected)
        #expect(String(decoding: try JSONStreamEncoder.encode([Int]()), as: UTF8.self) == "[]")
        #expect(String(decoding: try JSONStreamEncoder.encode(["a": 1.5]), as: UTF8.self) == #"{"a":1.5}"#)
        // Dictionary keys are data: verbatim, and sorted so the bytes do not depend on the hash seed.
        #expect(String(decoding: try JSONStreamEncoder.encode(["zKey": 1, "aKey": 2, "mKey": 3]), as: UTF8.self)
            == #"{"aKey":2,"mKey":3,"zKey":1}"#)
        struct TwoLists: Encodable {
            func encode(to encoder: any Encoder) throws {
                var first = encoder.unkeyedContainer()
                try first.encode(1)
                var second = encoder.unkeyedContainer()
                try second.encode(2)
            }
        }
        #expect(String(decoding: try JSONStreamEncoder.encode(TwoLists()), as: UTF8.self) == "[1,2]")
        #expect(String(decoding: try JSONStreamEncoder.encode([Int128(1) << 100]), as: UTF8.self) == "[1267650600228229401496703205376]")
        #expect(throws: EncodingError.self) { try JSONStreamEncoder.encode([Double.nan]) }
        // Every primitive a single-value container takes is written as a value.
        struct Primitives: Encodable {
            var a: Int8 = -8, b: Int16 = 16, c: UInt = 1, d: UInt8 = 8, e: UInt16 = 16, f: UInt32 = 32, g: UInt64 = 64
            var h: Float = 0.5, i: Decimal = Decimal(string: "12.5")!, j: URL = URL(string: "https://example.com/a")!
            var k: Int32? = nil, l: Int64? = 64
        }
        let primitives: NSDictionary = [
            "a": -8, "b": 16, "c": 1, "d": 8, "e": 16, "f": 32, "g": 64, "h": 0.5, "i": 12.5, "j": "https://example.com/a", "l": 64,
        ]
        #expect(try object(JSONStreamEncoder.encode(Primitives())) == primitives)
    }

    @Test func timestampsMatchFoundationsISO8601WithMilliseconds() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            // Whole milliseconds, as Foundation's truncation and ours then agree exactly; from
            // 1901 to 2200, across leap years and the epoch.
            let milliseconds = Int64.random(in: -2_177_452_800_000...7_258_118_400_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000 + 0.0004)
            #expect(ISO8601Timestamp.string(date) == date.formatted(style))
        }
        // A stored .123000 stays .123 (Foundation's truncation of the nearest double gives .122).
        #expect(ISO8601Timestamp.string(Date(timeIntervalSince1970: 1_764_302_400.123)) == "2025-11-28T04:00:00.123Z")
    }
}
