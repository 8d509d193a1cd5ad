import Foundation
import PartnerCore
import Testing

/// `available_operations` is the console's Operation column: what this caller may do to the
/// customer now, by the same rule the freeze path enforces.
@Suite("Available operations")
struct AvailableOperationsTests {
    static let restrict = ["restrict_purchase_and_freeze_resources", "restrict_purchase"]
    static let lift = ["unrestrict_purchase_and_unfreeze_resources"]
    static let liftPurchase = ["unrestrict_purchase"]

    /// The operations `token` sees for `customer` in the list and in the detail view, which must agree.
    func operations(_ api: API, _ customer: CustomerID, _ token: String) async throws -> [String] {
        let detail = try await api.call(.get, "/v1/customers/\(customer)", as: token)
        let list = try await api.call(.get, "/v1/customers?limit=200", as: token)
        let fromDetail = (detail.json["available_operations"]?.array ?? []).compactMap(\.string)
        let listed = (list.json["items"]?.array ?? []).first { $0["id"]?.uuid == customer.uuid }
        let fromList = (listed?["available_operations"]?.array ?? []).compactMap(\.string)
        #expect(fromDetail == fromList, "detail and list disagree")
        return fromDetail
    }

    @Test func partnerWithGrantAndItsDistributorByStatus() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: true)
            let frozen = try await api.world.customer(of: tenant)
            let restricted = try await api.world.customer(of: tenant)
            try await api.world.freeze(frozen, as: tenant.partner.principal, reason: "set-up")
            try await api.world.freeze(restricted, as: tenant.partner.principal, type: .purchase, reason: "set-up")

            #expect(try await operations(api, tenant.customer.id, tenant.partner.token) == Self.restrict)
            #expect(try await operations(api, frozen.customerID, tenant.partner.token) == Self.lift)
            #expect(try await operations(api, restricted.customerID, tenant.partner.token) == Self.liftPurchase)
            // The partner holds the authority: its distributor may not act.
            for customer in [tenant.customer.id, frozen.customerID, restricted.customerID] {
                #expect(try await operations(api, customer, tenant.distributor.token) == [])
                #expect(try await operations(api, customer, api.operatorToken) == [])
            }
            #expect(try await operations(api, tenant.customer.id, tenant.customer.token) == [])
        }
    }

    @Test func partnerWithoutGrantAndItsDistributorByStatus() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: false)
            let frozen = try await api.world.customer(of: tenant)
            try await api.world.freeze(frozen, as: tenant.distributor.principal, reason: "set-up")

            #expect(try await operations(api, tenant.customer.id, tenant.partner.token) == [])
            #expect(try await operations(api, frozen.customerID, tenant.partner.token) == [])
            #expect(try await operations(api, tenant.customer.id, tenant.distributor.token) == Self.restrict)
            #expect(try await operations(api, frozen.customerID, tenant.distributor.token) == Self.lift)
        }
    }

    @Test func suspendedActorsAreOfferedNothing() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: true)
            _ = try await api.services.provisioning.updatePartner(
                id: tenant.partner.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            #expect(try await operations(api, tenant.customer.id, tenant.partner.token) == [])
            // A suspended partner does not hold the authority: the distributor acts.
            #expect(try await operations(api, tenant.customer.id, tenant.distributor.token) == Self.restrict)

            _ = try await api.services.provisioning.updateDistributor(
                id: tenant.distributor.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            _ = try await api.services.provisioning.updatePartner(
                id: tenant.partner.id, status: .active, retentionSeconds: nil, context: api.operatorContext)
            #expect(try await operations(api, tenant.customer.id, tenant.distributor.token) == [])
            #expect(try await operations(api, tenant.customer.id, tenant.partner.token) == [])
        }
    }

    /// What is offered is what is allowed: each offered operation succeeds when applied.
    @Test func offeredOperationsSucceed() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: true)
            let id = tenant.customer.id
            #expect(try await operations(api, id, tenant.partner.token).first == "restrict_purchase_and_freeze_resources")
            expectSuccess(try await api.call(.post, "/v1/customers/\(id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted), 200)
            #expect(try await operations(api, id, tenant.partner.token) == Self.lift)
            expectSuccess(try await api.call(.post, "/v1/customers/\(id)/unfreeze", as: tenant.partner.token, json: #"{"reason":"ok"}"#), 200)
            #expect(try await operations(api, id, tenant.partner.token) == Self.restrict)
        }
    }
}
