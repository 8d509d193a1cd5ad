import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Authority (the prerequisite)": a distributor grants and revokes the permission
/// per partner, with history; revoking does not lift restrictions, the distributor takes
/// them over.
@Suite("Freeze-permission grants", .serialized)
struct GrantTests {
    @Test func grantsKeepTheirHistory() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: false)
            let grants = world.services.grants
            let context = tenant.distributor.context
            let first = try await grants.grant(partnerID: tenant.partnerID, context: context)
            #expect(first.granted)
            #expect(first.current?.grantedBy.kind == "distributor")
            #expect(first.current?.grantedBy.id == tenant.distributorID.uuid)
            let revoked = try await grants.revoke(partnerID: tenant.partnerID, context: context)
            #expect(!revoked.granted)
            #expect(revoked.history.count == 1)
            #expect(revoked.history[0].revokedBy?.kind == "distributor")
            #expect(revoked.history[0].revokedBy?.id == tenant.distributorID.uuid)
            _ = try await grants.grant(partnerID: tenant.partnerID, context: context)
            let state = try await grants.permission(partnerID: tenant.partnerID, principal: tenant.partner.principal)
            #expect(state.granted)
            #expect(state.history.count == 2)
            #expect(try await client.int(
                "SELECT count(*) FROM freeze_permission_grants WHERE partner_id = $1", [tenant.partnerID]) == 2)
            #expect(try await client.int(
                "SELECT count(*) FROM freeze_permission_grants WHERE partner_id = $1 AND revoked_at >= granted_at AND revoked_by_id = $2",
                [tenant.partnerID, tenant.distributorID]) == 1)
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE partner_id = $1 AND type = 'grant.changed'", [tenant.partnerID]) == 3)
            let listed = try await grants.partners(of: tenant.distributor.principal, page: PageRequest())
            #expect(listed.items.map(\.id) == [tenant.partnerID])
            #expect(listed.items[0].freezePermission.granted)
            try await assertInvariants(client)
        }
    }

    /// Granting a granted permission or revoking a revoked one changes nothing (no second
    /// row, no audit event).
    @Test func repeatingAGrantOrARevokeChangesNothing() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: true)
            let before = try await DatabaseState.capture(client)
            _ = try await world.services.grants.grant(partnerID: tenant.partnerID, context: tenant.distributor.context)
            #expect(try await DatabaseState.capture(client) == before)
            _ = try await world.services.grants.revoke(partnerID: tenant.partnerID, context: tenant.distributor.context)
            let revoked = try await DatabaseState.capture(client)
            _ = try await world.services.grants.revoke(partnerID: tenant.partnerID, context: tenant.distributor.context)
            #expect(try await DatabaseState.capture(client) == revoked)
            try await assertInvariants(client)
        }
    }

    /// The partner's restriction stays after the revoke; the partner can no longer lift it,
    /// and the distributor can.
    @Test func revokingLeavesRestrictionsAndTheDistributorTakesOver() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: true)
            let frozen = try await world.freeze(tenant)
            _ = try await world.services.grants.revoke(partnerID: tenant.partnerID, context: tenant.distributor.context)
            #expect(try await client.status(of: tenant) == "frozen")
            #expect(try await client.states(of: tenant, .payPerUse) == ["frozen": 3])
            #expect(try await client.int(
                "SELECT count(*) FROM restrictions WHERE customer_id = $1 AND lifted_at IS NULL AND id = $2",
                [tenant.customerID, frozen.restrictionId]) == 1)
            try await expectRefusal(.permissionNotGranted, client) { try await world.unfreeze(tenant) }
            let lifted = try await world.unfreeze(tenant, as: tenant.distributor.principal)
            #expect(lifted.unfrozenResources == 3)
            let restriction = try await client.query(
                "SELECT applied_by_kind, lifted_by_kind, lifted_by_id FROM restrictions WHERE customer_id = $1 AND id = $2",
                [tenant.customerID, frozen.restrictionId]).single()
            #expect(try restriction.decode(0, as: String.self) == "partner")
            #expect(try restriction.decode(1, as: String.self) == "distributor")
            #expect(try restriction.decode(2, as: DistributorID.self) == tenant.distributorID)
            try await assertInvariants(client)
        }
    }

    @Test func onlyTheOwningDistributorGrants() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: false)
            let stranger = try await world.tenant(partnerHoldsGrant: false)
            try await expectRefusal(.notFound, client) {
                try await world.services.grants.grant(partnerID: tenant.partnerID, context: stranger.distributor.context)
            }
            try await expectRefusal(.notFound, client) {
                try await world.services.grants.grant(partnerID: .random(), context: tenant.distributor.context)
            }
            for principal in [tenant.partner.principal, tenant.customer.principal, world.operatorContext.principal] {
                try await expectRefusal(.forbidden, client) {
                    try await world.services.grants.grant(partnerID: tenant.partnerID, context: principal.context)
                }
            }
        }
    }
}
