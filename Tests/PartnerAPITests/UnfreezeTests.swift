import Foundation
import PartnerCore
import Testing

/// POST /v1/customers/{id}/unfreeze: lifting the restriction that was applied, reporting
/// released resources as not recoverable, and every refusal changing nothing.
@Suite("Unfreeze one customer")
struct UnfreezeTests {
    @Test func liftingAFreezeReactivatesFrozenResources() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            let restrictionID = try #require(try await api.client.string(
                "SELECT id::text FROM restrictions WHERE customer_id = $1 AND lifted_at IS NULL", [tenant.customer.id]))
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token,
                json: #"{"type":"purchase_and_resources","reason":"Paid up"}"#)
            expectSuccess(result, 200)
            #expect(result.json["customer_id"]?.uuid == tenant.customer.id.uuid)
            #expect(result.json["status"]?.string == "normal")
            #expect(result.json["restriction_id"]?.uuid == UUID(uuidString: restrictionID))
            #expect(result.json["unfrozen_resources"]?.int == 3)
            #expect(result.json["released_resources"]?.int == 0)
            #expect(result.json["not_recoverable_resource_ids"]?.array == [])

            #expect(try await api.client.customerStatus(tenant.customer.id) == "normal")
            #expect(try await api.client.resourceStates(tenant.customer.id) == ["pay_per_use.active": 3, "prepaid.active": 2])
            #expect(try await api.client.int("""
                SELECT count(*) FROM resources WHERE customer_id = $1
                  AND (retention_until IS NOT NULL OR frozen_at IS NOT NULL OR restriction_id IS NOT NULL)
                """, [tenant.customer.id]) == 0)
            #expect(try await api.client.string(
                "SELECT concat_ws(':', lifted_by_kind, lifted_by_id, lift_reason) FROM restrictions WHERE id = $1::uuid", [restrictionID])
                == "partner:\(tenant.partner.id.uuidString.lowercased()):Paid up")
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE customer_id = $1 AND action = 'customer.unrestricted' AND reason = 'Paid up'",
                [tenant.customer.id]) == 1)
            #expect(try await api.client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type IN ('customer.unrestricted', 'resources.unfrozen')",
                [tenant.customer.id]) == 2)
            // The customer can buy again.
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token, json: Route.order.bodyTemplate), 201)
        }
    }

    @Test func releasedResourcesStayReleasedAndAreReportedNotRecoverable() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            let released = tenant.payPerUseIDs[1]
            try await api.release([released])
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token, json: #"{"reason":"Paid up"}"#)
            expectSuccess(result, 200)
            #expect(result.json["unfrozen_resources"]?.int == 2)
            #expect(result.json["released_resources"]?.int == 1)
            #expect((result.json["not_recoverable_resource_ids"]?.array ?? []).compactMap(\.uuid) == [released.uuid])
            #expect(try await api.client.string("SELECT state FROM resources WHERE id = $1", [released]) == "released")
            #expect(try await api.client.int("SELECT count(*) FROM resource_data WHERE resource_id = $1 AND size_bytes > 0", [released]) == 0)
        }
    }

    @Test func liftingAPurchaseRestriction() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, type: .purchase, reason: "set-up")
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token,
                json: #"{"type":"purchase","reason":"Reviewed"}"#)
            expectSuccess(result, 200)
            #expect(result.json["unfrozen_resources"]?.int == 0)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "normal")
        }
    }

    @Test func refusalsChangeNothing() async throws {
        try await withAPI { (api) async throws in
            let granted = try await api.world.tenant(partnerHoldsGrant: true)
            let ungranted = try await api.world.tenant(partnerHoldsGrant: false)
            try await api.world.freeze(granted, as: granted.partner.principal, reason: "set-up")
            try await api.world.freeze(ungranted, as: ungranted.distributor.principal, reason: "set-up")
            let normal = try await api.world.customer(of: granted)
            let before = try await api.snapshot()
            func unfreeze(_ customer: CustomerID, _ token: String, _ body: String = #"{"reason":"Paid"}"#) async throws -> APIResult {
                try await api.call(.post, "/v1/customers/\(customer)/unfreeze", as: token, json: body)
            }
            expectError(try await unfreeze(normal.customerID, granted.partner.token), 409, "customer_not_restricted")
            expectError(try await unfreeze(granted.customer.id, granted.partner.token, #"{"type":"purchase","reason":"Paid"}"#),
                        409, "freeze_type_mismatch")
            expectError(try await unfreeze(granted.customer.id, granted.partner.token, "{}"), 422, "reason_required")
            expectError(try await unfreeze(granted.customer.id, granted.partner.token, #"{"reason":""}"#), 422, "reason_required")
            expectError(try await unfreeze(granted.customer.id, granted.partner.token, #"{"reason":"Paid","type":"all"}"#),
                        422, "validation_failed")
            expectError(try await unfreeze(ungranted.customer.id, ungranted.partner.token), 403, "permission_not_granted")
            expectError(try await unfreeze(granted.customer.id, granted.distributor.token), 403, "permission_held_by_partner")
            expectError(try await unfreeze(granted.customer.id, granted.customer.token), 403, "forbidden")
            expectError(try await unfreeze(.random(), granted.partner.token), 404, "not_found")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func aSuspendedPartnerCannotUnfreeze() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: true)
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            _ = try await api.services.provisioning.updatePartner(
                id: tenant.partner.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token, json: #"{"reason":"Paid"}"#),
                        403, "actor_suspended")
            #expect(try await api.snapshot() == before)
        }
    }
}
