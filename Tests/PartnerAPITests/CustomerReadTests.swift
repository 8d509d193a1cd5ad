import Foundation
import PartnerCore
import Testing

/// Customer Management reads: the list with status filter and pages, one customer with its
/// resource counts, and its resources with their states.
@Suite("Customer reads")
struct CustomerReadTests {
    @Test func partnerDistributorAndCustomerEachSeeTheirOwnCustomers() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let second = try await api.world.customer(of: tenant)
            let otherPartner = try await api.world.partner(of: tenant.distributor, granted: false)
            let third = try await api.world.customer(of: otherPartner, under: tenant.distributor)

            let byPartner = try await api.call(.get, "/v1/customers", as: tenant.partner.token)
            expectSuccess(byPartner, 200)
            #expect(Set(byPartner.json.itemIDs) == Set([tenant.customer.id, second.customerID].map(\.uuid)))
            #expect(byPartner.json["next_cursor"]?.isNull == true)

            let byDistributor = try await api.call(.get, "/v1/customers", as: tenant.distributor.token)
            #expect(Set(byDistributor.json.itemIDs) == Set([tenant.customer.id, second.customerID, third.customerID].map(\.uuid)))

            let byCustomer = try await api.call(.get, "/v1/customers", as: third.customer.token)
            #expect(byCustomer.json.itemIDs == [third.customerID.uuid])
        }
    }

    @Test func statusFilterAndPages() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            var customers = [tenant]
            for _ in 0..<4 { customers.append(try await api.world.customer(of: tenant, payPerUse: 1, prepaid: 0)) }
            let ids = customers.map(\.customerID)
            try await api.world.freeze(customers[1], as: tenant.partner.principal, reason: "set-up")
            try await api.world.freeze(customers[2], as: tenant.partner.principal, type: .purchase, reason: "set-up")

            let frozen = try await api.call(.get, "/v1/customers?status=frozen", as: tenant.partner.token)
            #expect(frozen.json.itemIDs == [ids[1].uuid])
            #expect(frozen.json["items"]?[0]?["status"]?.string == "frozen")
            let restricted = try await api.call(.get, "/v1/customers?status=purchase_restricted", as: tenant.partner.token)
            #expect(restricted.json.itemIDs == [ids[2].uuid])
            let normal = try await api.call(.get, "/v1/customers?status=normal", as: tenant.partner.token)
            #expect(normal.json.itemIDs.count == 3)

            var seen: [UUID] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let page = try await api.call(.get, "/v1/customers?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: tenant.partner.token)
                expectSuccess(page, 200)
                #expect(page.json.itemIDs.count <= 2)
                seen += page.json.itemIDs
                cursor = page.json["next_cursor"]?.string
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(Set(seen) == Set(ids.map(\.uuid)) && seen.count == 5)
        }
    }

    @Test func badListQueriesAreValidationFailures() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            for query in ["status=closed", "limit=0", "limit=201", "limit=ten", "limit=-1", "cursor=%%%", "cursor=bm9wZQ"] {
                expectError(try await api.call(.get, "/v1/customers?\(query)", as: tenant.partner.token), 422, "validation_failed")
            }
            expectSuccess(try await api.call(.get, "/v1/customers?limit=200", as: tenant.partner.token), 200)
            expectSuccess(try await api.call(.get, "/v1/customers?limit=1", as: tenant.partner.token), 200)
        }
    }

    @Test func oneCustomerWithItsRestrictionAndResourceCounts() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            let result = try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.partner.token)
            expectSuccess(result, 200)
            #expect(result.json["status"]?.string == "frozen")
            let restriction = try #require(result.json["active_restriction"])
            #expect(restriction["type"]?.string == "purchase_and_resources")
            #expect(restriction["reason"]?.string == "set-up")
            #expect(restriction["applied_by"]?["kind"]?.string == "partner")
            #expect(restriction["applied_by"]?["id"]?.uuid == tenant.partner.id.uuid)
            #expect(restriction["agreement_version"]?.string == "2024-01")
            let counts = try #require(result.json["resource_counts"])
            #expect(counts["total"]?.int == 5)
            #expect(counts["prepaid"]?["active"]?.int == 2)
            #expect(counts["prepaid"]?["frozen"]?.int == 0)
            #expect(counts["pay_per_use"]?["frozen"]?.int == 3)
            #expect(counts["pay_per_use"]?["active"]?.int == 0)
            #expect(counts["pay_per_use"]?["released"]?.int == 0)
            #expect(result.json["available_operations"]?.array == [.string("unrestrict_purchase_and_unfreeze_resources")])

            // The customer itself sees its own record.
            expectSuccess(try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.customer.token), 200)
            expectError(try await api.call(.get, "/v1/customers/\(UUID())", as: tenant.partner.token), 404, "not_found")
            expectError(try await api.call(.get, "/v1/customers/12345", as: tenant.partner.token), 404, "not_found")
        }
    }

    @Test func resourcesShowBillingModeStateRetentionAndRelease() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            try await api.release([tenant.payPerUseIDs[0]])

            let result = try await api.call(.get, "/v1/customers/\(tenant.customer.id)/resources", as: tenant.customer.token)
            expectSuccess(result, 200)
            let items = try #require(result.json["items"]?.array)
            #expect(items.count == 5)
            for item in items {
                let id = try #require(item["id"]?.uuid)
                #expect(item["customer_id"]?.uuid == tenant.customer.id.uuid)
                if tenant.prepaidIDs.map(\.uuid).contains(id) {
                    #expect(item["billing_mode"]?.string == "prepaid")
                    #expect(item["state"]?.string == "active")
                    #expect(item["expires_at"]?.string != nil)
                    #expect(item["retention_until"] == nil)
                } else if id == tenant.payPerUseIDs[0].uuid {
                    #expect(item["state"]?.string == "released")
                    #expect(item["released_at"]?.string != nil)
                    #expect(item["retention_until"]?.string != nil)
                } else {
                    #expect(item["billing_mode"]?.string == "pay_per_use")
                    #expect(item["state"]?.string == "frozen")
                    #expect(item["retention_until"]?.string != nil)
                    #expect(item["released_at"] == nil)
                }
            }
            let frozen = try await api.call(.get, "/v1/customers/\(tenant.customer.id)/resources?state=frozen", as: tenant.partner.token)
            #expect(frozen.json.itemIDs.count == 2)
            let page = try await api.call(.get, "/v1/customers/\(tenant.customer.id)/resources?limit=3", as: tenant.distributor.token)
            #expect(page.json.itemIDs.count == 3)
            let cursor = try #require(page.json["next_cursor"]?.string)
            let rest = try await api.call(
                .get, "/v1/customers/\(tenant.customer.id)/resources?limit=3&cursor=\(cursor)", as: tenant.distributor.token)
            #expect(rest.json.itemIDs.count == 2)
            #expect(Set(page.json.itemIDs + rest.json.itemIDs).count == 5)

            expectError(try await api.call(.get, "/v1/customers/\(tenant.customer.id)/resources?state=melted", as: tenant.partner.token),
                        422, "validation_failed")
            expectError(try await api.call(.get, "/v1/customers/\(UUID())/resources", as: tenant.partner.token), 404, "not_found")
        }
    }
}
