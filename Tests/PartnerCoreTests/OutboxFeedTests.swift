import Foundation
@testable import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Outbox" and §7 "The events feed": a consumer that follows `next_cursor`
/// misses no event and sees none twice, in the writing transactions' order.
@Suite("Outbox feed")
struct OutboxFeedTests {
    /// Reads the whole feed as `principal` from `cursor`, `limit` at a time.
    static func drain(_ outbox: Outbox, _ principal: Principal, from cursor: String?, limit: Int) async throws -> ([Int64], String?) {
        var ids: [Int64] = []
        var cursor = cursor
        while true {
            let page = try await outbox.feed(principal, page: try PageRequest(limit: limit, cursor: cursor))
            ids += page.items.map(\.id)
            cursor = page.nextCursor
            if page.items.isEmpty { return (ids, cursor) }
        }
    }

    /// Transaction 9 before 10 before 100: the feed orders by the xid8 column, not by its
    /// text (which sorted "1000" before "999" and let a page skip events). The ids are below
    /// any transaction a test cluster runs (initdb alone passes 700), so the horizon is above.
    @Test func transactionsAreOrderedAsNumbersAcrossAPowerOfTen() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            for (txid, type) in [("10", "second"), ("9", "first"), ("100", "third")] {
                try await client.query("""
                    INSERT INTO outbox_events (txid, type, distributor_id, tenant_id) VALUES ($1::text::xid8, $2, $3, $3)
                    """, [txid, type, tenant.distributorID])
            }
            let outbox = Outbox(client: client)
            var types: [String] = []
            var cursor: String?
            // One event a page: every page boundary sits between two transactions.
            while true {
                let page = try await outbox.feed(tenant.distributor.principal, page: try PageRequest(limit: 1, cursor: cursor))
                guard let event = page.items.first else { break }
                types.append(event.type)
                cursor = page.nextCursor
            }
            #expect(types.filter { ["first", "second", "third"].contains($0) } == ["first", "second", "third"])
        }
    }


    /// Four freezes and lifts of each customer, and eight grant changes, all at once.
    static func write(_ world: World, _ tenants: [Tenant], _ first: Tenant) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for tenant in tenants {
                group.addTask {
                    for _ in 0..<4 {
                        _ = try await world.freeze(tenant)
                        _ = try await world.unfreeze(tenant)
                    }
                }
            }
            group.addTask {
                // Another partner of the same distributor: its grant changes are in the
                // distributor's feed, and the freezing partner keeps its own grant.
                let other = try await world.tenant(under: first.distributor, payPerUse: 0, prepaid: 0)
                for _ in 0..<8 {
                    _ = try await world.services.grants.revoke(partnerID: other.partnerID, context: other.distributor.context)
                    _ = try await world.services.grants.grant(partnerID: other.partnerID, context: other.distributor.context)
                }
            }
            try await group.waitForAll()
        }
    }

    /// Sixteen customers frozen and lifted concurrently, plus grant changes (the writers that
    /// hold the feed barrier), while a consumer follows the cursor with small pages.
    @Test func aConsumerFollowingTheCursorUnderConcurrentWritersSeesEveryEventOnce() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let first = try await world.tenant(payPerUse: 2, prepaid: 0)
            var tenants = [first]
            for _ in 1..<16 { tenants.append(try await world.customer(of: first, payPerUse: 2, prepaid: 0)) }
            let outbox = Outbox(client: client)
            var (seen, cursor) = try await Self.drain(outbox, first.distributor.principal, from: nil, limit: 200)
            let finished = Finished()
            let writers = Task {
                do { try await Self.write(world, tenants, first) } catch {
                    await finished.set()
                    throw error
                }
                await finished.set()
            }
            while true {
                let page = try await outbox.feed(first.distributor.principal, page: try PageRequest(limit: 7, cursor: cursor))
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                if page.items.isEmpty, await finished.value { break }
            }
            _ = try await writers.value
            let stored = Set(try await client.query(
                "SELECT id FROM outbox_events WHERE distributor_id = $1", [first.distributorID]
            ).map { try $0.decode(0, as: Int64.self) })
            // The horizon is cluster-wide: another suite's open transaction holds it back for
            // a while, so the rest is polled for up to 30 s.
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while !stored.isSubset(of: Set(seen)), ContinuousClock.now < deadline {
                let (more, next) = try await Self.drain(outbox, first.distributor.principal, from: cursor, limit: 200)
                seen += more
                cursor = next
                if more.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(stored.count > 16 * 4 * 4)
            #expect(Set(seen) == stored, "missed \(stored.subtracting(seen).count)")
            #expect(seen.count == Set(seen).count, "repeated \(seen.count - Set(seen).count)")
        }
    }
}

/// Set once the writers have returned, so the polling consumer knows when to stop.
actor Finished {
    private(set) var value = false
    func set() { value = true }
}
