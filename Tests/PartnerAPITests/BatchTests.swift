import Foundation
import PartnerCore
import Testing

/// POST /v1/customers/freeze and /unfreeze: up to ten customers, each its own transaction,
/// each with its own outcome in request order.
@Suite("Batch freeze and unfreeze")
struct BatchTests {
    @Test func batchFreezeWithPartialSuccess() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let second = try await api.world.customer(of: tenant)
            let restricted = try await api.world.customer(of: tenant)
            try await api.world.freeze(restricted, as: tenant.partner.principal, type: .purchase, reason: "set-up")
            let foreign = try await api.world.tenant()
            let missing = CustomerID.random()
            let ids = [tenant.customer.id, restricted.customerID, missing, second.customerID, foreign.customer.id]
            let result = try await api.call(
                .post, "/v1/customers/freeze", as: tenant.partner.token,
                json: json(["customer_ids": ids.map(\.uuidString), "reason": "Quarter closed", "agreement_accepted": true]))
            expectSuccess(result, 200)
            let results = try #require(result.json["results"]?.array)
            try #require(results.count == 5)
            #expect(results.compactMap { $0["customer_id"]?.uuid } == ids.map(\.uuid), "one outcome per customer, in request order")
            #expect(results.map { $0["outcome"]?.string } == ["succeeded", "failed", "failed", "succeeded", "failed"])
            #expect(results[0]["result"]?["frozen_resources"]?.int == 3)
            #expect(results[0]["result"]?["status"]?.string == "frozen")
            #expect(results[0]["error"] == nil)
            #expect(results[1]["error"]?["code"]?.string == "customer_already_restricted")
            #expect(results[1]["result"] == nil)
            #expect(results[2]["error"]?["code"]?.string == "not_found")
            #expect(results[4]["error"]?["code"]?.string == "not_found")
            #expect(results[4]["error"] == results[2]["error"], "another tenant's customer looks like a missing one")

            #expect(try await api.client.customerStatus(tenant.customer.id) == "frozen")
            #expect(try await api.client.customerStatus(second.customerID) == "frozen")
            #expect(try await api.client.customerStatus(restricted.customerID) == "purchase_restricted")
            #expect(try await api.client.customerStatus(foreign.customer.id) == "normal")
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE action = 'customer.restricted' AND reason = 'Quarter closed'") == 2)
        }
    }

    @Test func batchUnfreezeWithPartialSuccess() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let purchaseOnly = try await api.world.customer(of: tenant)
            let normal = try await api.world.customer(of: tenant)
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            try await api.world.freeze(purchaseOnly, as: tenant.partner.principal, type: .purchase, reason: "set-up")
            let ids = [tenant.customer.id, purchaseOnly.customerID, normal.customerID]
            let result = try await api.call(
                .post, "/v1/customers/unfreeze", as: tenant.partner.token,
                json: json(["customer_ids": ids.map(\.uuidString), "type": "purchase_and_resources", "reason": "Paid"]))
            expectSuccess(result, 200)
            let results = try #require(result.json["results"]?.array)
            try #require(results.count == 3)
            #expect(results.map { $0["outcome"]?.string } == ["succeeded", "failed", "failed"])
            #expect(results[0]["result"]?["unfrozen_resources"]?.int == 3)
            #expect(results[1]["error"]?["code"]?.string == "freeze_type_mismatch")
            #expect(results[2]["error"]?["code"]?.string == "customer_not_restricted")
            #expect(try await api.client.customerStatus(tenant.customer.id) == "normal")
            #expect(try await api.client.customerStatus(purchaseOnly.customerID) == "purchase_restricted")
        }
    }

    @Test func batchAuthorityIsCheckedPerCustomer() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            let granted = try await api.world.partner(of: distributor, granted: true)
            let plain = try await api.world.partner(of: distributor, granted: false)
            let ofGranted = try await api.world.customer(of: granted, under: distributor)
            let ofPlain = try await api.world.customer(of: plain, under: distributor)
            let result = try await api.call(
                .post, "/v1/customers/freeze", as: distributor.token,
                json: json(["customer_ids": [ofGranted.customerID.uuidString, ofPlain.customerID.uuidString], "type": "purchase", "reason": "Audit"]))
            expectSuccess(result, 200)
            let results = try #require(result.json["results"]?.array)
            try #require(results.count == 2)
            #expect(results[0]["error"]?["code"]?.string == "permission_held_by_partner")
            #expect(results[1]["outcome"]?.string == "succeeded")
            #expect(try await api.client.customerStatus(ofGranted.customerID) == "normal")
            #expect(try await api.client.customerStatus(ofPlain.customerID) == "purchase_restricted")
        }
    }

    @Test(arguments: [
        Refusal(#"{"customer_ids":[],"reason":"r","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(#"{"reason":"r","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(#"{"customer_ids":"\#(UUID())","reason":"r","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(#"{"customer_ids":["nope"],"reason":"r","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(json(["customer_ids": (0..<11).map { _ in UUID().uuidString }, "reason": "r", "agreement_accepted": true]),
                422, "validation_failed"),
        Refusal(#"{"customer_ids":["{c}","{c}"],"reason":"r","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(#"{"customer_ids":["{c}"],"agreement_accepted":true}"#, 422, "reason_required"),
        Refusal(#"{"customer_ids":["{c}"],"reason":"r"}"#, 422, "agreement_required"),
    ])
    func badBatchFreezesAreRefusedWhole(_ refusal: Refusal) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            let body = refusal.body.replacingOccurrences(of: "{c}", with: tenant.customer.id.uuidString)
            expectError(try await api.call(.post, "/v1/customers/freeze", as: tenant.partner.token, json: body), refusal.status, refusal.code)
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func tenIsTheLargestBatch() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            var ids = [tenant.customer.id]
            for _ in 0..<9 { ids.append(try await api.world.customer(of: tenant, payPerUse: 1, prepaid: 0).customerID) }
            let result = try await api.call(
                .post, "/v1/customers/freeze", as: tenant.partner.token,
                json: json(["customer_ids": ids.map(\.uuidString), "type": "purchase", "reason": "All"]))
            expectSuccess(result, 200)
            #expect(result.json["results"]?.array?.allSatisfy { $0["outcome"]?.string == "succeeded" } == true)
            #expect(try await api.client.int("SELECT count(*) FROM customers WHERE status = 'purchase_restricted'") == 10)
        }
    }

    @Test func customersAndTheOperatorCannotBatch() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            for token in [tenant.customer.token, api.operatorToken] {
                for route in [Route.batchFreeze, Route.batchUnfreeze] {
                    expectError(try await api.call(
                        route.method, route.path([:]), as: token, json: route.body(["customer_id": tenant.customer.id.uuidString])),
                                403, "forbidden")
                }
            }
            #expect(try await api.snapshot() == before)
        }
    }
}
