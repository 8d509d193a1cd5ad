import Foundation
import PartnerCore
import Testing

/// A customer's orders (buy, renew, change) and usage, through the purchase gate.
@Suite("Orders and usage")
struct OrderTests {
    @Test func buyPayPerUseAndPrepaid() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let path = "/v1/customers/\(tenant.customer.id)/orders"
            let result = try await api.call(
                .post, path, as: tenant.customer.token,
                json: #"{"action":"buy","resource":{"type":"ecs.g6.large","billing_mode":"pay_per_use","spec":{"vCPU":4,"Zone":"a"}}}"#)
            expectSuccess(result, 201)
            #expect(result.json["action"]?.string == "buy")
            let orderID = try #require(result.json["order_id"]?.uuid)
            let resourceID = try #require(result.json["resource_id"]?.uuid)
            #expect(result.json["resource"]?["id"]?.uuid == resourceID)
            #expect(result.json["resource"]?["state"]?.string == "active")
            #expect(result.json["resource"]?["billing_mode"]?.string == "pay_per_use")
            #expect(result.json["resource"]?["spec"]?["vCPU"]?.int == 4, "free-form keys keep their case")
            #expect(result.json["resource"]?["expires_at"] == nil)
            #expect(try await api.client.int("SELECT count(*) FROM orders WHERE id = $1 AND resource_id = $2 AND action = 'buy'",
                                        [orderID, resourceID]) == 1)
            #expect(try await api.client.int("SELECT count(*) FROM audit_events WHERE action = 'order.buy' AND target_id = $1", [resourceID]) == 1)

            let prepaid = try await api.call(
                .post, path, as: tenant.customer.token,
                json: #"{"action":"buy","resource":{"type":"rds","billing_mode":"prepaid","term_months":12}}"#)
            expectSuccess(prepaid, 201)
            let prepaidID = try #require(prepaid.json["resource_id"]?.uuid)
            #expect(try await api.client.int("""
                SELECT count(*) FROM resources WHERE id = $1
                  AND expires_at BETWEEN now() + interval '12 months' - interval '1 minute' AND now() + interval '12 months'
                """, [prepaidID]) == 1)
        }
    }

    @Test func renewAPrepaidResourceAndChangeASpec() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let path = "/v1/customers/\(tenant.customer.id)/orders"
            let prepaid = tenant.prepaidIDs[0]
            let oldExpiry = try await api.client.string("SELECT expires_at::text FROM resources WHERE id = $1", [prepaid])
            let renewed = try await api.call(
                .post, path, as: tenant.customer.token, json: #"{"action":"renew","resource_id":"\#(prepaid)","term_months":2}"#)
            expectSuccess(renewed, 201)
            #expect(renewed.json["action"]?.string == "renew")
            #expect(try await api.client.int(
                "SELECT count(*) FROM resources WHERE id = $1 AND expires_at = $2::timestamptz + interval '2 months'",
                [prepaid, oldExpiry]) == 1)

            let payPerUse = tenant.payPerUseIDs[0]
            let changed = try await api.call(
                .post, path, as: tenant.customer.token, json: #"{"action":"change","resource_id":"\#(payPerUse)","spec":{"size":"xl"}}"#)
            expectSuccess(changed, 201)
            #expect(changed.json["resource"]?["spec"]?["size"]?.string == "xl")
            #expect(try await api.client.string("SELECT spec->>'size' FROM resources WHERE id = $1", [payPerUse]) == "xl")
            #expect(try await api.client.int("SELECT count(*) FROM orders WHERE customer_id = $1", [tenant.customer.id]) == 2)
        }
    }

    @Test func aRestrictedCustomerCannotBuyRenewOrChange() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, type: .purchase, reason: "set-up")
            let path = "/v1/customers/\(tenant.customer.id)/orders"
            let before = try await api.snapshot()
            for body in [
                #"{"action":"buy","resource":{"type":"ecs","billing_mode":"pay_per_use"}}"#,
                #"{"action":"renew","resource_id":"\#(tenant.prepaidIDs[0])","term_months":1}"#,
                #"{"action":"change","resource_id":"\#(tenant.payPerUseIDs[0])","spec":{"a":1}}"#,
            ] {
                expectError(try await api.call(.post, path, as: tenant.customer.token, json: body), 409, "purchase_restricted")
            }
            #expect(try await api.snapshot() == before)
            // Resources stay usable under a purchase-only restriction.
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/resources/\(tenant.payPerUseIDs[0])/usage",
                as: tenant.customer.token, json: #"{"quantity":1.5}"#), 202)
        }
    }

    @Test func usageIsRecordedForActiveResourcesOnly() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let payPerUse = tenant.payPerUseIDs
            func usage(_ resource: ResourceID, _ quantity: String = "2.5") async throws -> APIResult {
                try await api.call(
                    .post, "/v1/customers/\(tenant.customer.id)/resources/\(resource)/usage", as: tenant.customer.token,
                    json: #"{"quantity":\#(quantity)}"#)
            }
            let accepted = try await usage(payPerUse[0])
            expectSuccess(accepted, 202)
            #expect(accepted.json["resource_id"]?.uuid == payPerUse[0].uuid)
            #expect(accepted.json["accepted"]?.bool == true)
            #expect(try await api.client.int("SELECT count(*) FROM usage_records WHERE resource_id = $1", [payPerUse[0]]) == 1)

            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            try await api.release([payPerUse[1]])
            let before = try await api.snapshot()
            expectError(try await usage(payPerUse[0]), 423, "resource_frozen")
            expectError(try await usage(payPerUse[1]), 410, "resource_released")
            expectError(try await usage(.random()), 404, "not_found")
            #expect(try await api.snapshot() == before)
            // Prepaid resources stay usable while pay-per-use ones are frozen.
            expectSuccess(try await usage(tenant.prepaidIDs[0]), 202)
        }
    }

    @Test func aReleasedResourceIsGoneForOrders() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            let released = tenant.payPerUseIDs[0]
            try await api.release([released])
            try await api.world.unfreeze(tenant, reason: "set-up")
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token,
                json: #"{"action":"change","resource_id":"\#(released)","spec":{"a":1}}"#), 410, "resource_released")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func renewingPayPerUseIsNotPossible() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token,
                json: #"{"action":"renew","resource_id":"\#(tenant.payPerUseIDs[0])","term_months":1}"#),
                        409, "resource_not_changeable")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test(arguments: [
        Refusal(#"{"action":"buy"}"#, 422, "validation_failed"),
        Refusal(#"{"action":"sell","resource":{"type":"ecs","billing_mode":"prepaid"}}"#, 422, "validation_failed"),
        Refusal(#"{"action":"buy","resource":{"type":"ecs","billing_mode":"pay_per_use","term_months":1}}"#, 422, "validation_failed"),
        Refusal(#"{"action":"buy","resource":{"type":"ecs","billing_mode":"prepaid","term_months":61}}"#, 422, "validation_failed"),
        Refusal(#"{"action":"buy","resource":{"type":"ecs","billing_mode":"prepaid","term_months":0}}"#, 422, "validation_failed"),
        Refusal(#"{"action":"buy","resource":{"type":"ecs","billing_mode":"pay_per_use","spec":[1]}}"#, 422, "validation_failed"),
        Refusal(#"{"action":"buy","resource":{"type":"","billing_mode":"pay_per_use"}}"#, 422, "validation_failed"),
        Refusal(#"{"action":"renew","term_months":1}"#, 422, "validation_failed"),
        Refusal(#"{"action":"renew","resource_id":"{prepaid}"}"#, 422, "validation_failed"),
        Refusal(#"{"action":"change","resource_id":"{payPerUse}"}"#, 422, "validation_failed"),
        Refusal(#"{"action":"change","resource_id":"{payPerUse}","spec":"big"}"#, 422, "validation_failed"),
        Refusal(#"{"action":"change","resource_id":"\#(UUID())","spec":{}}"#, 404, "not_found"),
        Refusal(#"{"action":"renew","resource_id":"\#(UUID())","term_months":1}"#, 404, "not_found"),
    ])
    func badOrdersChangeNothing(_ refusal: Refusal) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let body = refusal.body
                .replacingOccurrences(of: "{prepaid}", with: tenant.prepaidIDs[0].uuidString)
                .replacingOccurrences(of: "{payPerUse}", with: tenant.payPerUseIDs[0].uuidString)
            let before = try await api.snapshot()
            expectError(try await api.call(.post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token, json: body),
                        refusal.status, refusal.code)
            #expect(try await api.snapshot() == before)
        }
    }

    @Test(arguments: ["0", "-1", "1e13", "\"3\"", "null", "true"])
    func badUsageQuantities(_ quantity: String) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/resources/\(tenant.payPerUseIDs[0])/usage",
                as: tenant.customer.token, json: #"{"quantity":\#(quantity)}"#), 422, "validation_failed")
            #expect(try await api.client.int("SELECT count(*) FROM usage_records") == 0)
        }
    }
}
