import Foundation
import HTTPTypes
import PartnerCore
import Testing

/// DESIGN §10 over HTTP: the price list, a customer's budget (set, read, removed), the
/// budget in customer answers and a budget's restriction with its origin, each answer
/// checked against the OpenAPI document.
@Suite("Budgets API")
struct BudgetAPITests {
    @Test func theOperatorPricesAndEveryoneReadsThePrices() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            let body = #"{"usage_unit_price":"0.25","monthly_price":"30"}"#
            expectError(try await api.call(.put, "/v1/prices/ecs.instance", as: tenant.partner.token, json: body), 403, "forbidden")
            for bad in [#"{"usage_unit_price":0.25,"monthly_price":"30"}"#, #"{"usage_unit_price":"0.25"}"#,
                        #"{"usage_unit_price":"-1","monthly_price":"30"}"#, #"{"usage_unit_price":"0.1234567","monthly_price":"30"}"#] {
                expectError(try await api.call(.put, "/v1/prices/ecs.instance", as: api.operatorToken, json: bad), 422, "validation_failed")
            }
            expectError(try await api.call(.put, "/v1/prices/bad%20type", as: api.operatorToken, json: body), 422, "validation_failed")
            #expect(try await api.snapshot() == before)
            let set = try await api.call(.put, "/v1/prices/ecs.instance", as: api.operatorToken, json: body)
            expectSuccess(set, 200)
            #expect(set.json["usage_unit_price"]?.string == "0.250000")
            try LifecycleAPITests.expectDocumented(set, "PUT", "/v1/prices/{resource_type}")
            let list = try await api.call(.get, "/v1/prices", as: tenant.customer.token)
            expectSuccess(list, 200)
            #expect(list.json["items"]?.array?.compactMap { $0["monthly_price"]?.string } == ["30.000000"])
            try LifecycleAPITests.expectDocumented(list, "GET", "/v1/prices")
        }
    }

    @Test func aPartnerSetsABudgetTheCustomerReadsItAndExhaustionRestricts() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let customer = tenant.customer.id
            let path = "/v1/customers/\(customer)/budget"
            _ = try await api.services.prices.set(resourceType: "ecs.instance", usageUnitPrice: "2", monthlyPrice: "0", context: api.operatorContext)
            expectError(try await api.call(.get, path, as: tenant.customer.token), 404, "not_found")
            let before = try await api.snapshot()
            expectError(try await api.call(
                .put, path, as: tenant.partner.token,
                json: #"{"amount":"10","period":"monthly","on_exhaustion":"restrict_purchase_and_freeze_resources"}"#), 422, "agreement_required")
            expectError(try await api.call(
                .put, path, as: tenant.partner.token, json: #"{"amount":10,"period":"monthly","on_exhaustion":"notify"}"#), 422, "validation_failed")
            expectError(try await api.call(
                .put, path, as: tenant.partner.token, json: #"{"amount":"10","period":"weekly","on_exhaustion":"notify"}"#), 422, "validation_failed")
            expectError(try await api.call(
                .put, path, as: tenant.customer.token, json: #"{"amount":"10","period":"monthly","on_exhaustion":"notify"}"#), 403, "forbidden")
            expectError(try await api.call(.delete, path, as: tenant.partner.token), 404, "not_found")
            #expect(try await api.snapshot() == before)

            let set = try await api.call(
                .put, path, as: tenant.partner.token,
                json: #"{"amount":"10","period":"monthly","on_exhaustion":"restrict_purchase","agreement_accepted":false}"#)
            expectSuccess(set, 200)
            #expect(set.json["spent"]?.string == "0" && set.json["amount"]?.string == "10.00")
            try LifecycleAPITests.expectDocumented(set, "PUT", "/v1/customers/{customer_id}/budget")
            // 6 units at 2: 12 of 10.
            let usage = try await api.call(
                .post, "/v1/customers/\(customer)/resources/\(tenant.payPerUseIDs[0])/usage", as: tenant.customer.token,
                json: #"{"quantity":6}"#)
            expectSuccess(usage, 202)
            _ = try await api.services.budgetSettlement.run()
            let read = try await api.call(.get, path, as: tenant.customer.token)
            expectSuccess(read, 200)
            #expect(read.json["spent"]?.string == "12" && read.json["remaining"]?.string == "0")
            #expect(read.json["thresholds_reached"]?.array?.compactMap { $0.int } == [75, 90, 100])
            #expect(read.json["alerts"]?.array?.compactMap { $0["percent"]?.int } == [100, 90, 75])
            #expect(read.json["alerts"]?[0]?["spent"]?.string == "12")
            try LifecycleAPITests.expectDocumented(read, "GET", "/v1/customers/{customer_id}/budget")
            let detail = try await api.call(.get, "/v1/customers/\(customer)", as: tenant.partner.token)
            #expect(detail.json["status"]?.string == "purchase_restricted")
            #expect(detail.json["active_restriction"]?["origin"]?.string == "budget")
            #expect(detail.json["active_restriction"]?["applied_by"]?["kind"]?.string == "system")
            #expect(detail.json["budget"]?["percent_used"]?.int == 120)
            try LifecycleAPITests.expectDocumented(detail, "GET", "/v1/customers/{customer_id}")
            let list = try await api.call(.get, "/v1/customers", as: tenant.partner.token)
            try LifecycleAPITests.expectDocumented(list, "GET", "/v1/customers")
            let buy = try await api.call(
                .post, "/v1/customers/\(customer)/orders", as: tenant.customer.token,
                json: #"{"action":"buy","resource":{"type":"ecs.instance","billing_mode":"pay_per_use"}}"#)
            expectError(buy, 409, "purchase_restricted")
            // Removed: the budget's restriction goes with it.
            let removed = try await api.call(.delete, path, as: tenant.partner.token)
            expectSuccess(removed, 200)
            #expect(removed.json["restriction_lifted"]?.bool == true)
            try LifecycleAPITests.expectDocumented(removed, "DELETE", "/v1/customers/{customer_id}/budget")
            expectError(try await api.call(.get, path, as: tenant.partner.token), 404, "not_found")
            let after = try await api.call(.get, "/v1/customers/\(customer)", as: tenant.partner.token)
            #expect(after.json["status"]?.string == "normal" && after.json["budget"] == nil)
            let events = try await api.poll(.get, "/v1/events", as: tenant.partner.token) { result in
                (result.json["items"]?.array ?? []).contains { $0["type"]?.string == "budget.threshold_reached" }
            }
            try LifecycleAPITests.expectDocumented(events, "GET", "/v1/events")
        }
    }
}
