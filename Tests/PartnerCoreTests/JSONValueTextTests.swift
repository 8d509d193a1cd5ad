import Foundation
import PartnerCore
import Testing

/// The hand-written JSON text of a `JSONValue` is what `JSONEncoder` meant: valid JSON that
/// reads back as the same value, keys sorted, whole numbers without a fraction.
@Suite("JSON value text")
struct JSONValueTextTests {
    @Test func keysAreSortedAndScalarsWrittenPlainly() throws {
        let value = JSONValue.object([
            "zone": .string("eu-1"), "cpu": .number(4), "ratio": .number(0.25), "on": .bool(true), "tags": .array([.null]),
        ])
        #expect(try value.jsonText() == #"{"cpu":4,"on":true,"ratio":0.25,"tags":[null],"zone":"eu-1"}"#)
    }

    @Test func everyValueReadsBackUnchanged() throws {
        let value = JSONValue.object([
            "quote \" and \\ backslash": .string("line\nbreak\ttab\r\u{1}\u{1F}/é🇪🇺"),
            "numbers": .array([.number(-0.5), .number(1e300), .number(9_007_199_254_740_992), .number(-42), .number(1e-7)]),
            "nested": .object(["a": .array([.object([:]), .array([]), .string("")])]),
        ])
        let text = try value.jsonText()
        #expect(try JSONValue(parsing: text) == value)
        // And Foundation's own reader takes it too.
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }

    @Test func aNumberWithoutJSONFormIsRefused() {
        #expect(throws: PartnerError.self) { try JSONValue.array([.number(.nan)]).jsonText() }
        #expect(throws: PartnerError.self) { try JSONValue.number(.infinity).jsonText() }
    }
}
