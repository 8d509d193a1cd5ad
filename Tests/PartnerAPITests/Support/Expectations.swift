import Foundation
import Testing

/// The error contract of DESIGN §4: the status, `{"error": {"code", "message"}}` with a
/// non-empty message, JSON content type and a request id.
func expectError(
    _ result: APIResult, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let message = result.json["error"]?["message"]?.string ?? ""
    #expect(result.code == status, "\(result)", sourceLocation: sourceLocation)
    #expect(result.errorCode == code, "\(result)", sourceLocation: sourceLocation)
    #expect(message.count > 0, "\(result)", sourceLocation: sourceLocation)
    #expect(result.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    #expect(result.headers[values: .init("X-Request-ID")!].count == 1, sourceLocation: sourceLocation)
}

/// A success with the given status and a JSON body.
func expectSuccess(_ result: APIResult, _ status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.code == status, "\(result)", sourceLocation: sourceLocation)
    #expect(result.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
}

/// One row of a table of refused requests: what is sent and the error expected.
struct Refusal: Sendable, CustomTestStringConvertible {
    let body: String
    let status: Int
    let code: String

    init(_ body: String, _ status: Int, _ code: String) {
        self.body = body
        self.status = status
        self.code = code
    }

    var testDescription: String { "\(body.prefix(80)) → \(status) \(code)" }
}
