import Foundation
import Logging
import PartnerAPI
import Testing

/// DESIGN §11, logs: `LOG_FORMAT=json` lines parse as JSON with the documented fields, and
/// the default text lines quote what would break them apart. Both in UTC.
@Suite("Log line formats")
struct LogLineFormatTests {
    static let date = Date(timeIntervalSince1970: 1_790_000_000.25)
    static let metadata: Logger.Metadata = [
        "request_id": "abc-123", "status": "422", "error": "value \"x\" = bad\nnext", "empty": "", "path": "/v1/customers",
    ]

    @Test func jsonLinesParseWithEveryField() throws {
        let line = LogLineFormat.json.line(
            date: Self.date, level: .warning, label: "partner-center", source: "PartnerAPI", message: "request failed",
            metadata: Self.metadata)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["timestamp"] as? String == "2026-09-21T14:13:20.250Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "request failed")
        #expect(object["label"] as? String == "partner-center" && object["source"] as? String == "PartnerAPI")
        #expect(object["request_id"] as? String == "abc-123")
        let fields = try #require(object["metadata"] as? [String: String])
        #expect(fields["error"] == "value \"x\" = bad\nnext" && fields["path"] == "/v1/customers" && fields["empty"] == "")
    }

    @Test func textLinesQuoteValuesThatWouldSplit() throws {
        let line = LogLineFormat.text.line(
            date: Self.date, level: .info, label: "partner-center", source: "PartnerAPI", message: "done", metadata: Self.metadata)
        #expect(line.hasPrefix("2026-09-21T14:13:20.250Z info partner-center: "))
        #expect(line.contains(" path=/v1/customers ") && line.contains(" status=422 ") && line.contains(" request_id=abc-123 "))
        #expect(line.contains(#" empty="" "#))
        #expect(!line.contains("\n"))
        // The quoted value reads back as JSON, whole.
        let quoted = try #require(line.range(of: #"error=""#)).upperBound
        let rest = String(line[line.index(before: quoted)...])
        let end = try #require(rest.range(of: #"" path="#)).lowerBound
        let decoded = try JSONDecoder().decode(String.self, from: Data(rest[...end].utf8))
        #expect(decoded == "value \"x\" = bad\nnext")
        #expect(line.hasSuffix(" [PartnerAPI] done"))
    }
}
