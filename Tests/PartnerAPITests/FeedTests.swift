import Foundation
import PartnerCore
import Testing

/// GET /v1/audit-events and GET /v1/events: what changed, for whom, in order, in pages.
@Suite("Audit log and events feed")
struct FeedTests {
    @Test func auditEventsOfAFreezeNewestFirstFilteredByCustomer() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let other = try await api.world.customer(of: tenant)
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted,
                headers: [.init("X-Request-ID")!: "audit-check"]), 200)
            let result = try await api.call(.get, "/v1/audit-events?customer_id=\(tenant.customer.id)", as: tenant.partner.token)
            expectSuccess(result, 200)
            let items = try #require(result.json["items"]?.array)
            #expect(items.allSatisfy { $0["customer_id"]?.uuid == tenant.customer.id.uuid })
            let newest = try #require(items.first)
            #expect(newest["action"]?.string == "customer.restricted")
            #expect(newest["actor"]?["kind"]?.string == "partner")
            #expect(newest["actor"]?["id"]?.uuid == tenant.partner.id.uuid)
            #expect(newest["target_kind"]?.string == "customer")
            #expect(newest["reason"]?.string == "Budget exhausted")
            #expect(newest["request_id"]?.string == "audit-check")
            #expect(newest["details"]?["frozen_resources"]?.int == 3)
            #expect(newest["details"]?["agreement_version"]?.string == "2024-01")
            let ids = items.compactMap { $0["id"]?.int }
            #expect(ids == ids.sorted(by: >), "newest first")
            #expect(!items.contains { $0["customer_id"]?.uuid == other.customerID.uuid })

            expectError(try await api.call(.get, "/v1/audit-events?customer_id=\(UUID())", as: tenant.partner.token), 404, "not_found")
            expectError(try await api.call(.get, "/v1/audit-events?customer_id=abc", as: tenant.partner.token), 422, "validation_failed")
        }
    }

    @Test func auditEventsPage() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let total = try await api.client.int("SELECT count(*) FROM audit_events WHERE distributor_id = $1", [tenant.distributor.id])
            #expect(total >= 3)
            var seen: [Int] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let page = try await api.call(
                    .get, "/v1/audit-events?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: tenant.distributor.token)
                expectSuccess(page, 200)
                seen += (page.json["items"]?.array ?? []).compactMap { $0["id"]?.int }
                cursor = page.json["next_cursor"]?.string
                pages += 1
            } while cursor != nil && pages < 50
            #expect(seen.count == total && Set(seen).count == total)
            #expect(seen == seen.sorted(by: >))
            for query in ["limit=0", "limit=999", "cursor=xyz"] {
                expectError(try await api.call(.get, "/v1/audit-events?\(query)", as: tenant.distributor.token), 422, "validation_failed")
            }
        }
    }

    @Test func eventsFeedInOrderResumingFromTheCursor() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            // The grant made at set-up is the partner's first event. The feed shows an event
            // once every older transaction in the cluster has ended, so readers poll.
            let first = try await api.poll(.get, "/v1/events", as: tenant.partner.token) { !($0.json["items"]?.array ?? []).isEmpty }
            expectSuccess(first, 200)
            let initial = try #require(first.json["items"]?.array)
            #expect(initial.map { $0["type"]?.string } == ["grant.changed"])
            #expect(initial.first?["customer_id"] == nil)
            #expect(initial.first?["data"]?["granted"]?.bool == true)
            let cursor = try #require(first.json["next_cursor"]?.string)

            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted), 200)
            let next = try await api.poll(.get, "/v1/events?after=\(cursor)", as: tenant.partner.token) {
                ($0.json["items"]?.array ?? []).count >= 2
            }
            expectSuccess(next, 200)
            let items = try #require(next.json["items"]?.array)
            #expect(Set(items.compactMap { $0["type"]?.string }) == ["customer.restricted", "resources.frozen"])
            #expect(items.allSatisfy { $0["customer_id"]?.uuid == tenant.customer.id.uuid })
            let frozen = try #require(items.first { $0["type"]?.string == "resources.frozen" })
            let resourceIDs = Set((frozen["data"]?["resource_ids"]?.array ?? []).compactMap(\.uuid))
            #expect(resourceIDs == Set(tenant.payPerUseIDs.map(\.uuid)))
            #expect(frozen["data"]?["retention_until"]?.string != nil)
            let ids = items.compactMap { $0["id"]?.int }
            #expect(ids == ids.sorted())

            // At the end of the feed the cursor still points to where to poll from.
            let end = try #require(next.json["next_cursor"]?.string)
            let empty = try await api.call(.get, "/v1/events?after=\(end)", as: tenant.partner.token)
            #expect(empty.json["items"]?.array == [])
            #expect(empty.json["next_cursor"]?.string == end)

            for query in ["after=garbage", "limit=0", "limit=x"] {
                expectError(try await api.call(.get, "/v1/events?\(query)", as: tenant.partner.token), 422, "validation_failed")
            }
        }
    }
}
