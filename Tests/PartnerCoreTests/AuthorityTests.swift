import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Authority" and §3 invariants 6 and 7: only the current holder of the authority
/// changes a customer's restriction; suspended actors change nothing; another tenant's
/// customer is `not_found`; customers and operators are `forbidden`. Every refusal is
/// checked to have changed nothing at all.
@Suite("Authority: who may restrict a customer", .serialized)
struct AuthorityTests {
    @Test func aPartnerWithoutTheGrantIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: false)
            try await expectRefusal(.permissionNotGranted, client) { try await world.freeze(tenant) }
            try await expectRefusal(.permissionNotGranted, client) { try await world.freeze(tenant, type: .purchase) }
            // The distributor acts for its partners' customers itself.
            _ = try await world.freeze(tenant, as: tenant.distributor.principal)
            try await expectRefusal(.permissionNotGranted, client) { try await world.unfreeze(tenant) }
            #expect(try await client.status(of: tenant) == "frozen")
            _ = try await world.unfreeze(tenant, as: tenant.distributor.principal)
            try await assertInvariants(client)
        }
    }

    @Test func theDistributorIsRefusedWhileThePartnerHoldsTheGrant() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: true)
            try await expectRefusal(.permissionHeldByPartner, client) { try await world.freeze(tenant, as: tenant.distributor.principal) }
            _ = try await world.freeze(tenant)
            try await expectRefusal(.permissionHeldByPartner, client) { try await world.unfreeze(tenant, as: tenant.distributor.principal) }
            #expect(try await client.status(of: tenant) == "frozen")
            #expect(try await client.states(of: tenant, .payPerUse) == ["frozen": 3])
            try await assertInvariants(client)
        }
    }

    @Test func aSuspendedPartnerChangesNoRestriction() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: true)
            let frozen = try await world.customer(of: tenant)
            _ = try await world.freeze(frozen)
            try await world.suspend(partner: tenant)
            try await expectRefusal(.actorSuspended, client) { try await world.freeze(tenant) }
            try await expectRefusal(.actorSuspended, client) { try await world.unfreeze(frozen) }
            #expect(try await client.status(of: frozen) == "frozen")
            try await assertInvariants(client)
        }
    }

    @Test func aSuspendedDistributorChangesNoRestrictionAndNeitherDoItsPartners() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let own = try await world.tenant(partnerHoldsGrant: false)
            let granted = try await world.tenant(under: own.distributor, partnerHoldsGrant: true)
            let frozen = try await world.customer(of: own)
            _ = try await world.freeze(frozen, as: own.distributor.principal)
            try await world.suspend(distributor: own)
            try await expectRefusal(.actorSuspended, client) { try await world.freeze(own, as: own.distributor.principal) }
            try await expectRefusal(.actorSuspended, client) { try await world.unfreeze(frozen, as: own.distributor.principal) }
            // A partner under a suspended distributor is suspended with it.
            try await expectRefusal(.actorSuspended, client) { try await world.freeze(granted) }
            try await expectRefusal(.actorSuspended, client) {
                try await world.services.grants.grant(partnerID: own.partnerID, context: own.distributor.context)
            }
            try await assertInvariants(client)
        }
    }

    /// Another tenant's customer answers exactly like one that does not exist.
    @Test func anotherTenantsCustomerIsNotFound() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let victim = try await world.tenant(partnerHoldsGrant: true)
            let frozenVictim = try await world.customer(of: victim)
            _ = try await world.freeze(frozenVictim)
            let sibling = try await world.tenant(under: victim.distributor, partnerHoldsGrant: true)
            let stranger = try await world.tenant(partnerHoldsGrant: false)
            let outsiders: [(String, Principal)] = [
                ("another partner of the same distributor", sibling.partner.principal),
                ("another distributor", stranger.distributor.principal),
                ("another distributor's partner", stranger.partner.principal),
            ]
            for (_, principal) in outsiders {
                for target in [victim, frozenVictim] {
                    let error = try await expectRefusal(.notFound, client) { try await world.freeze(target, as: principal) }
                    try await expectRefusal(.notFound, client) { try await world.unfreeze(target, as: principal) }
                    try await expectRefusal(.notFound, client) {
                        try await world.services.customers.get(principal, customerID: target.customerID)
                    }
                    try await expectRefusal(.notFound, client) {
                        try await world.services.resources.list(principal, customerID: target.customerID, state: nil, page: PageRequest())
                    }
                    // Same answer as for an id that exists nowhere.
                    let missing = try await expectRefusal(.notFound, client) {
                        try await world.services.restrictions.freeze(
                            customerID: .random(), FreezeRequest(reason: "x", agreementAccepted: true), context: principal.context)
                    }
                    #expect(error?.message == missing?.message)
                }
                try await expectRefusal(.notFound, client) {
                    try await world.services.grants.permission(partnerID: victim.partnerID, principal: principal)
                }
            }
            // Lists show nothing of the other tenant.
            let seen = try await world.services.customers.list(stranger.distributor.principal, status: nil, page: PageRequest(limit: 200))
            #expect(seen.items.map(\.id) == [stranger.customerID])
            // A customer sees itself only.
            try await expectRefusal(.notFound, client) {
                try await world.services.restrictions.freeze(
                    customerID: victim.customerID, FreezeRequest(reason: "x", agreementAccepted: true),
                    context: stranger.customer.context)
            }
            try await expectRefusal(.notFound, client) {
                try await world.services.customers.get(stranger.customer.principal, customerID: victim.customerID)
            }
            // And another distributor cannot grant or revoke for this partner.
            try await expectRefusal(.notFound, client) {
                try await world.services.grants.revoke(partnerID: victim.partnerID, context: stranger.distributor.context)
            }
            #expect(try await client.status(of: victim) == "normal")
            #expect(try await client.status(of: frozenVictim) == "frozen")
            try await assertInvariants(client)
        }
    }

    @Test func customersAndOperatorsCannotRestrict() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: false)
            for principal in [tenant.customer.principal, world.operatorContext.principal] {
                try await expectRefusal(.forbidden, client) { try await world.freeze(tenant, as: principal) }
                try await expectRefusal(.forbidden, client) { try await world.freeze(tenant, as: principal, type: .purchase) }
            }
            _ = try await world.freeze(tenant, as: tenant.distributor.principal)
            for principal in [tenant.customer.principal, world.operatorContext.principal] {
                try await expectRefusal(.forbidden, client) { try await world.unfreeze(tenant, as: principal) }
            }
            // A partner cannot hand out the permission itself.
            try await expectRefusal(.forbidden, client) {
                try await world.services.grants.grant(partnerID: tenant.partnerID, context: tenant.partner.context)
            }
            try await assertInvariants(client)
        }
    }

    /// The console's Operation column comes from the same rule the freeze path enforces.
    @Test func availableOperationsFollowTheAuthority() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: true)
            let customers = world.services.customers
            #expect(try await customers.get(tenant.partner.principal, customerID: tenant.customerID).availableOperations
                == [.restrictPurchaseAndFreezeResources, .restrictPurchase])
            #expect(try await customers.get(tenant.distributor.principal, customerID: tenant.customerID).availableOperations == [])
            _ = try await world.freeze(tenant)
            #expect(try await customers.get(tenant.partner.principal, customerID: tenant.customerID).availableOperations
                == [.unrestrictPurchaseAndUnfreezeResources])
            _ = try await world.services.grants.revoke(partnerID: tenant.partnerID, context: tenant.distributor.context)
            #expect(try await customers.get(tenant.partner.principal, customerID: tenant.customerID).availableOperations == [])
            #expect(try await customers.get(tenant.distributor.principal, customerID: tenant.customerID).availableOperations
                == [.unrestrictPurchaseAndUnfreezeResources])
        }
    }
}
