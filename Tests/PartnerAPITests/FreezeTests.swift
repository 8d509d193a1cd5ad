import Foundation
import PartnerCore
import Testing

/// POST /v1/customers/{id}/freeze: the whole change in one transaction, and every refusal
/// leaving the database as it was.
@Suite("Freeze one customer")
struct FreezeTests {
    static let accepted = #"{"reason":"Budget exhausted","agreement_accepted":true}"#

    @Test func partnerWithGrantFreezesPayPerUseAndKeepsPrepaid() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: Self.accepted,
                headers: [.init("X-Request-ID")!: "freeze-req-1"])
            expectSuccess(result, 200)
            #expect(result.json["customer_id"]?.uuid == tenant.customer.id.uuid)
            #expect(result.json["status"]?.string == "frozen")
            #expect(result.json["type"]?.string == "purchase_and_resources", "the default type")
            #expect(result.json["frozen_resources"]?.int == 3)
            #expect(result.json["agreement_version"]?.string == "2024-01")
            let restrictionID = try #require(result.json["restriction_id"]?.uuid)
            let retentionUntil = try #require(result.json["retention_until"]?.string)
            let until = try Date(retentionUntil, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
            #expect(abs(until.timeIntervalSinceNow - 1_296_000) < 120, "15 days by default")

            #expect(try await api.client.customerStatus(tenant.customer.id) == "frozen")
            #expect(try await api.client.resourceStates(tenant.customer.id) == ["pay_per_use.frozen": 3, "prepaid.active": 2])
            #expect(try await api.client.int("""
                SELECT count(*) FROM resources WHERE customer_id = $1 AND state = 'frozen'
                  AND restriction_id = $2 AND retention_until IS NOT NULL AND frozen_at IS NOT NULL
                """, [tenant.customer.id, restrictionID]) == 3)
            #expect(try await api.client.string("""
                SELECT concat_ws(':', type, reason, applied_by_kind, applied_by_id, agreement_version)
                FROM restrictions WHERE id = $1 AND lifted_at IS NULL
                """, [restrictionID]) == "purchase_and_resources:Budget exhausted:partner:\(tenant.partner.id.uuidString.lowercased()):2024-01")
            // Exactly one audit event, with the reason and the request id.
            #expect(try await api.client.int("""
                SELECT count(*) FROM audit_events WHERE customer_id = $1 AND action = 'customer.restricted'
                  AND reason = 'Budget exhausted' AND request_id = 'freeze-req-1' AND actor_id = $2
                """, [tenant.customer.id, tenant.partner.id]) == 1)
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE customer_id = $1 AND action LIKE 'customer.%restricted'", [tenant.customer.id]) == 1)
            // Outbox: the restriction, and the frozen resources by id.
            #expect(try await api.client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.restricted'", [tenant.customer.id]) == 1)
            let frozenIDs = try await api.client.string(
                "SELECT data->>'resource_ids' FROM outbox_events WHERE customer_id = $1 AND type = 'resources.frozen'", [tenant.customer.id])
            for id in tenant.payPerUseIDs { #expect(frozenIDs?.contains(id.uuidString.lowercased()) == true) }
        }
    }

    @Test func purchaseOnlyRestrictionFreezesNothingAndNeedsNoAgreement() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token,
                json: #"{"type":"purchase","reason":"Review"}"#)
            expectSuccess(result, 200)
            #expect(result.json["status"]?.string == "purchase_restricted")
            #expect(result.json["frozen_resources"]?.int == 0)
            #expect(result.json["retention_until"] == nil)
            #expect(result.json["agreement_version"] == nil)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "purchase_restricted")
            #expect(try await api.client.resourceStates(tenant.customer.id) == ["pay_per_use.active": 3, "prepaid.active": 2])
        }
    }

    @Test func distributorFreezesForAPartnerWithoutGrantUsingItsRetention() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(retentionSeconds: 3600, partnerHoldsGrant: false)
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.distributor.token, json: Self.accepted)
            expectSuccess(result, 200)
            #expect(try await api.client.int("""
                SELECT count(*) FROM resources WHERE customer_id = $1 AND state = 'frozen'
                  AND retention_until BETWEEN frozen_at + interval '3599 seconds' AND frozen_at + interval '3601 seconds'
                """, [tenant.customer.id]) == 3)
            #expect(try await api.client.string(
                "SELECT applied_by_kind FROM restrictions WHERE customer_id = $1", [tenant.customer.id]) == "distributor")
        }
    }

    @Test(arguments: [
        Refusal(#"{"agreement_accepted":true}"#, 422, "reason_required"),
        Refusal(#"{"reason":"   ","agreement_accepted":true}"#, 422, "reason_required"),
        Refusal(#"{"reason":"\#(String(repeating: "r", count: 257))","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(#"{"reason":"Budget"}"#, 422, "agreement_required"),
        Refusal(#"{"reason":"Budget","agreement_accepted":false}"#, 422, "agreement_required"),
        Refusal(#"{"type":"purchase_and_resources","reason":"Budget"}"#, 422, "agreement_required"),
        Refusal(#"{"type":"everything","reason":"Budget","agreement_accepted":true}"#, 422, "validation_failed"),
        Refusal(#"{"reason":"Budget","agreement_accepted":"yes"}"#, 422, "validation_failed"),
    ])
    func badRequestsChangeNothing(_ refusal: Refusal) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: refusal.body),
                        refusal.status, refusal.code)
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func aReasonOf256CharactersIsAccepted() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let reason = String(repeating: "é", count: 256)
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token,
                json: json(["reason": "  \(reason)  ", "agreement_accepted": true])), 200)
            #expect(try await api.client.string("SELECT reason FROM restrictions WHERE customer_id = $1", [tenant.customer.id]) == reason)
        }
    }

    @Test func refusalsByStateAndAuthorityChangeNothing() async throws {
        try await withAPI { (api) async throws in
            let granted = try await api.world.tenant(partnerHoldsGrant: true)
            let ungranted = try await api.world.tenant(partnerHoldsGrant: false)
            let restricted = try await api.world.customer(of: granted)
            try await api.world.freeze(restricted, as: granted.partner.principal, type: .purchase, reason: "set-up")
            let before = try await api.snapshot()
            func freeze(_ customer: CustomerID, _ token: String) async throws -> APIResult {
                try await api.call(.post, "/v1/customers/\(customer)/freeze", as: token, json: Self.accepted)
            }
            expectError(try await freeze(restricted.customerID, granted.partner.token), 409, "customer_already_restricted")
            expectError(try await freeze(ungranted.customer.id, ungranted.partner.token), 403, "permission_not_granted")
            expectError(try await freeze(granted.customer.id, granted.distributor.token), 403, "permission_held_by_partner")
            expectError(try await freeze(granted.customer.id, granted.customer.token), 403, "forbidden")
            expectError(try await freeze(granted.customer.id, api.operatorToken), 403, "forbidden")
            expectError(try await freeze(.random(), granted.partner.token), 404, "not_found")
            expectError(try await api.call(.post, "/v1/customers/zzz/freeze", as: granted.partner.token, json: Self.accepted),
                        404, "not_found")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func suspendedActorsCannotFreeze() async throws {
        try await withAPI { (api) async throws in
            let granted = try await api.world.tenant(partnerHoldsGrant: true)
            let ungranted = try await api.world.tenant(partnerHoldsGrant: false)
            _ = try await api.services.provisioning.updatePartner(
                id: granted.partner.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            _ = try await api.services.provisioning.updateDistributor(
                id: ungranted.distributor.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(granted.customer.id)/freeze", as: granted.partner.token, json: Self.accepted),
                        403, "actor_suspended")
            expectError(try await api.call(
                .post, "/v1/customers/\(ungranted.customer.id)/freeze", as: ungranted.distributor.token, json: Self.accepted),
                        403, "actor_suspended")
            #expect(try await api.snapshot() == before)
        }
    }
}
