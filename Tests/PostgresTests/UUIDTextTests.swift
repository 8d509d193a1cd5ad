import Foundation
import Postgres
import Testing

/// The driver's own UUID text routines agree with Foundation's on every id, and refuse what
/// Foundation refuses.
@Suite("UUID text")
struct UUIDTextTests {
    @Test func formattingAndParsingAgreeWithFoundation() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
            #expect(UUID.parse(id.uuidString) == id)
            #expect(UUID.parse(id.lowercasedString) == id)
            #expect(UUID.parse(id.uuidString.dropFirst(0)) == id)
        }
    }

    @Test(arguments: [
        "", "nope", "8f9c3c1a-2999-4807-9593-9761b5b5691", "8f9c3c1a-2999-4807-9593-9761b5b5691bb",
        "8f9c3c1a 2999-4807-9593-9761b5b5691b", "8f9c3c1a-2999-4807-9593-9761b5b5691g",
        "{8f9c3c1a-2999-4807-9593-9761b5b5691b}", "8f9c3c1a2999480795939761b5b5691b",
    ])
    func malformedTextIsRefused(_ text: String) {
        #expect(UUID.parse(text) == nil)
        #expect(UUID(uuidString: text) == nil)
    }
}
