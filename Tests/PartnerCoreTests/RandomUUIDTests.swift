import Foundation
import PartnerCore
import Testing

/// Ids made without Foundation's `UUID()` are still RFC 4122 version 4 and do not repeat.
@Suite("Random UUIDs")
struct RandomUUIDTests {
    @Test func randomIdsAreVersion4AndDistinct() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let text = id.uuidString
            #expect(text[text.index(text.startIndex, offsetBy: 14)] == "4")
            #expect("89AB".contains(text[text.index(text.startIndex, offsetBy: 19)]))
        }
    }
}
