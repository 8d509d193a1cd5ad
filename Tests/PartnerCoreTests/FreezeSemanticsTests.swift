import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Restriction types", "Retention", "Outbox": what a freeze and an unfreeze do to
/// the customer, its resources, the audit log and the outbox — read back from the database.
@Suite("Freeze and unfreeze semantics", .serialized)
struct FreezeSemanticsTests {
    @Test func aPurchaseRestrictionFreezesNothing() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 4, prepaid: 2)
            let result = try await world.freeze(tenant, type: .purchase)
            #expect(result.frozenResources == 0)
            #expect(result.retentionUntil == nil)
            #expect(try await client.status(of: tenant) == "purchase_restricted")
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 4])
            #expect(try await client.states(of: tenant, .prepaid) == ["active": 2])
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'resources.frozen'", [tenant.customerID]) == 0)
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.restricted' AND data->>'type' = 'purchase'",
                [tenant.customerID]) == 1)
            try await assertInvariants(client)
        }
    }

    @Test func aFreezeFreezesEveryActivePayPerUseResourceAndNothingElse() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 3_600, payPerUse: 5, prepaid: 3)
            let neighbour = try await world.customer(of: tenant, payPerUse: 2, prepaid: 1)
            let auditBefore = try await client.int("SELECT count(*) FROM audit_events")
            let result = try await world.freeze(tenant, reason: "unpaid invoices")

            #expect(result.status == .frozen)
            #expect(result.frozenResources == 5)
            #expect(result.agreementVersion == "2024-01")
            #expect(try await client.status(of: tenant) == "frozen")
            #expect(try await client.states(of: tenant, .payPerUse) == ["frozen": 5])
            #expect(try await client.states(of: tenant, .prepaid) == ["active": 3])
            // Each frozen resource: this restriction, frozen now, retained for the distributor's period.
            #expect(try await client.int("""
                SELECT count(*) FROM resources r JOIN restrictions x ON x.customer_id = r.customer_id AND x.id = r.restriction_id
                WHERE r.customer_id = $1 AND r.state = 'frozen' AND x.id = $2
                  AND r.frozen_at = x.applied_at AND r.retention_until = r.frozen_at + interval '3600 seconds'
                  AND abs(extract(epoch FROM r.retention_until - $3::timestamptz)) < 0.001
                """, [tenant.customerID, result.restrictionId, result.retentionUntil]) == 5)
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE customer_id = $1 AND billing_mode = 'prepaid' AND frozen_at IS NULL AND retention_until IS NULL",
                [tenant.customerID]) == 3)
            // Stored data stays during retention.
            #expect(try await client.int("SELECT count(*) FROM resource_data WHERE customer_id = $1", [tenant.customerID]) == 8)
            // The restriction records who, why and which agreement.
            let restriction = try await client.query(
                "SELECT type, reason, applied_by_kind, applied_by_id, agreement_version FROM restrictions WHERE customer_id = $1 AND lifted_at IS NULL",
                [tenant.customerID]).single()
            #expect(try restriction.decode(0, as: String.self) == "purchase_and_resources")
            #expect(try restriction.decode(1, as: String.self) == "unpaid invoices")
            #expect(try restriction.decode(2, as: String.self) == "partner")
            #expect(try restriction.decode(3, as: PartnerID.self) == tenant.partnerID)
            #expect(try restriction.decode(4, as: String.self) == "2024-01")
            // Exactly one audit event for the whole change.
            #expect(try await client.int("SELECT count(*) FROM audit_events") == auditBefore + 1)
            let audit = try await client.query(
                "SELECT actor_kind, actor_id, action, target_id, reason, request_id, details->>'frozen_resources', details->>'agreement_version' FROM audit_events ORDER BY id DESC LIMIT 1"
            ).single()
            #expect(try audit.decode(0, as: String.self) == "partner")
            #expect(try audit.decode(1, as: PartnerID.self) == tenant.partnerID)
            #expect(try audit.decode(2, as: String.self) == "customer.restricted")
            #expect(try audit.decode(3, as: CustomerID.self) == tenant.customerID)
            #expect(try audit.decode(4, as: String.self) == "unpaid invoices")
            #expect(try audit.decode(5, as: String.self) == "test-partner")
            #expect(try audit.decode(6, as: String.self) == "5")
            #expect(try audit.decode(7, as: String.self) == "2024-01")
            // The outbox names the frozen resources.
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.restricted'", [tenant.customerID]) == 1)
            let named = try await Self.resourcesNamed(in: "resources.frozen", tenant, client)
            #expect(named == Set(try await world.resourceIDs(tenant, .payPerUse)))
            // The neighbour is untouched.
            #expect(try await client.status(of: neighbour) == "normal")
            #expect(try await client.states(of: neighbour, .payPerUse) == ["active": 2])
            try await assertInvariants(client)
        }
    }

    @Test func thePartnersRetentionOverridesTheDistributors() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 3_600, payPerUse: 2, prepaid: 0)
            _ = try await world.services.provisioning.updatePartner(
                id: tenant.partnerID, status: nil, retentionSeconds: 60, context: world.operatorContext)
            _ = try await world.freeze(tenant)
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE customer_id = $1 AND retention_until = frozen_at + interval '60 seconds'",
                [tenant.customerID]) == 2)
        }
    }

    @Test func theDefaultRetentionIsFifteenDays() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: nil, payPerUse: 1, prepaid: 0)
            _ = try await world.freeze(tenant)
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE customer_id = $1 AND retention_until = frozen_at + interval '15 days'",
                [tenant.customerID]) == 1)
        }
    }

    /// Large freezes are announced in chunks of at most 1000 resource ids per event.
    @Test func frozenResourcesAreAnnouncedInChunksOfAThousand() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 2_500, prepaid: 1, dataBytes: 0)
            let result = try await world.freeze(tenant)
            #expect(result.frozenResources == 2_500)
            let sizes = try await client.query("""
                SELECT jsonb_array_length(data->'resource_ids') FROM outbox_events
                WHERE customer_id = $1 AND type = 'resources.frozen' ORDER BY 1 DESC
                """, [tenant.customerID]).map { try $0.decode(0, as: Int.self) }
            #expect(sizes == [1000, 1000, 500])
            let named = try await Self.resourcesNamed(in: "resources.frozen", tenant, client)
            #expect(named == Set(try await world.resourceIDs(tenant, .payPerUse)))
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'resources.frozen' AND data->>'restriction_id' = $2",
                [tenant.customerID, result.restrictionId.uuidString.lowercased()]) == 3)
            try await assertInvariants(client)
        }
    }

    /// Unfreezing makes frozen resources active again; those the sweep already released stay
    /// released and are reported as not recoverable.
    @Test func anUnfreezeReactivatesFrozenResourcesAndReportsReleasedOnes() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 0, payPerUse: 5, prepaid: 2)
            let frozen = try await world.freeze(tenant)
            // The sweep releases two of the five (one batch of two).
            let sweep = try await RetentionSweep(client: client).run(.init(batchSize: 2, maxBatches: 1))
            #expect(sweep.released == 2)
            let released = Set(try await client.query(
                "SELECT id FROM resources WHERE customer_id = $1 AND state = 'released'", [tenant.customerID]
            ).map { try $0.decode(0, as: ResourceID.self) })
            #expect(released.count == 2)

            let result = try await world.unfreeze(tenant, reason: "paid")
            #expect(result.status == .normal)
            #expect(result.restrictionId == frozen.restrictionId)
            #expect(result.unfrozenResources == 3)
            #expect(result.releasedResources == 2)
            #expect(Set(result.notRecoverableResourceIds) == released)
            #expect(try await client.status(of: tenant) == "normal")
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 3, "released": 2])
            #expect(try await client.states(of: tenant, .prepaid) == ["active": 2])
            // Active again with their data; released ones keep no data.
            #expect(try await client.int("""
                SELECT count(*) FROM resources r JOIN resource_data d ON d.customer_id = r.customer_id AND d.resource_id = r.id
                WHERE r.customer_id = $1 AND r.billing_mode = 'pay_per_use' AND r.state = 'active'
                  AND r.frozen_at IS NULL AND r.retention_until IS NULL AND r.restriction_id IS NULL
                """, [tenant.customerID]) == 3)
            #expect(try await client.string(
                "SELECT lift_reason FROM restrictions WHERE customer_id = $1 AND id = $2", [tenant.customerID, frozen.restrictionId]) == "paid")
            #expect(try await client.auditCount("customer.unrestricted", customer: tenant) == 1)
            let unfrozen = try await Self.resourcesNamed(in: "resources.unfrozen", tenant, client)
            #expect(unfrozen == Set(try await world.resourceIDs(tenant, .payPerUse)).subtracting(released))
            #expect(try await client.int("""
                SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.unrestricted'
                  AND (data->>'unfrozen_resources')::int = 3 AND (data->>'released_resources')::int = 2
                """, [tenant.customerID]) == 1)

            // Released is final: a second freeze and unfreeze never bring them back.
            let second = try await world.freeze(tenant)
            #expect(second.frozenResources == 3)
            let lifted = try await world.unfreeze(tenant)
            #expect(lifted.unfrozenResources == 3)
            #expect(lifted.releasedResources == 0)
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 3, "released": 2])
            try await assertInvariants(client)
        }
    }

    /// The resource ids named by the customer's outbox events of `type`, checking that no id
    /// is named twice.
    static func resourcesNamed(in type: String, _ tenant: Tenant, _ client: PostgresClient) async throws -> Set<ResourceID> {
        let ids = try await client.query("""
            SELECT jsonb_array_elements_text(data->'resource_ids') FROM outbox_events WHERE customer_id = $1 AND type = $2
            """, [tenant.customerID, type]).map { try $0.decode(0, as: ResourceID.self) }
        #expect(ids.count == Set(ids).count, "an outbox event names a resource twice")
        return Set(ids)
    }
}
