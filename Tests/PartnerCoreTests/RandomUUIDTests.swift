import Foundation
import PartnerCore
import Testing

/// Ids made without Foundation's `UUID()` are still RFC 4122 version 4 and do not repeat,
/// across many refills of the shared random buffer (4 KiB, 256 ids) and from tasks that
/// take ids at the same time.
@Suite("Random UUIDs")
struct RandomUUIDTests {
    @Test func randomIdsAreVersion4AndDistinct() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.uuid.6 >> 4 == 4 && $0.uuid.8 >> 6 == 0b10 })
    }

    @Test func idsTakenConcurrentlyDoNotRepeat() async {
        let batches = await withTaskGroup(of: [UUID].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<5_000).map { _ in UUID.random() } }
            }
            return await group.reduce(into: [[UUID]]()) { $0.append($1) }
        }
        let ids = batches.flatMap { $0 }
        #expect(Set(ids).count == 20_000)
    }
}
