import Foundation
@testable import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §9, the resource lifecycle: prepaid expiry (expired → frozen for expiry →
/// released), renewals that reactivate, retention by customer level, and the invariants
/// after every sweep.
@Suite("Resource lifecycle", .serialized)
struct LifecycleTests {
    /// Prepaid resources of `tenant` expiring at `expiresAt`.
    static func prepaid(_ world: World, _ tenant: Tenant, expiresAt: Date, count: Int = 1) async throws {
        _ = try await world.services.provisioning.createResources(
            customerID: tenant.customerID,
            ResourceProvisioning(type: "rds.instance", billingMode: .prepaid, expiresAt: expiresAt, dataBytes: 2048, count: count),
            context: world.operatorContext)
    }

    static func setPolicy(_ world: World, _ level: CustomerLevel, freeze: Int = 1_296_000, grace: Int, retention: Int) async throws {
        _ = try await world.services.retentionPolicies.update(
            level: level, freezeRetentionSeconds: freeze, prepaidGraceSeconds: grace, prepaidRetentionSeconds: retention,
            context: world.operatorContext)
    }

    static func setLevel(_ world: World, _ tenant: Tenant, _ level: CustomerLevel) async throws {
        _ = try await world.services.provisioning.updateCustomer(id: tenant.customerID, level: level, context: world.operatorContext)
    }

    /// `key → count` from a query that answers (text, count) rows.
    static func counts(_ client: PostgresClient, _ sql: String, _ tenant: Tenant) async throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try await client.query(sql, [tenant.customerID]).map {
            (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self))
        })
    }

    /// `state → count` of the tenant's prepaid resources, and of each frozen reason.
    static func prepaidStates(_ client: PostgresClient, _ tenant: Tenant) async throws -> [String: Int] {
        try await counts(client, """
            SELECT state || coalesce(':' || frozen_reason, ''), count(*) FROM resources
            WHERE customer_id = $1 AND billing_mode = 'prepaid' GROUP BY 1
            """, tenant)
    }

    /// `event type → resources it names` for the tenant's outbox events matching `condition`.
    static func eventMentions(_ client: PostgresClient, _ tenant: Tenant, key: String = "e.type", _ condition: String = "true")
        async throws -> [String: Int]
    {
        try await counts(client, """
            SELECT \(key), count(*) FROM outbox_events e, jsonb_array_elements_text(e.data->'resource_ids') m(id)
            WHERE e.customer_id = $1 AND \(condition) GROUP BY 1
            """, tenant)
    }

    // MARK: Boundaries

    /// Each transition one second before and one second after its deadline, inside one
    /// transaction so that `now()` is the same instant for the set-up and the batch.
    @Test func eachTransitionHappensAtItsDeadlineAndNotASecondBefore() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 3_600, payPerUse: 2, prepaid: 0)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(86_400), count: 2)
            try await Self.setPolicy(world, .v0, grace: 600, retention: 900)
            let prepaid = try await world.resourceIDs(tenant, .prepaid)
            let connection = try database.connect()
            defer { connection.close() }
            // Expiry: expires_at = now() + 1 s stays active, now() - 1 s expires with its grace.
            let expired: Int = try connection.withTransaction { connection in
                try connection.execute("UPDATE resources SET expires_at = now() + interval '1 second' WHERE customer_id = $1 AND id = $2",
                                       [tenant.customerID, prepaid[0]])
                try connection.execute("UPDATE resources SET expires_at = now() - interval '1 second' WHERE customer_id = $1 AND id = $2",
                                       [tenant.customerID, prepaid[1]])
                return try connection.query(RetentionSweep.expireSQL, [tenant.customerID, 100]).single().decode(0)
            }
            #expect(expired == 1)
            let afterExpiry = try await client.query(
                "SELECT id, state, grace_until = expires_at + interval '600 seconds' FROM resources WHERE customer_id = $1 AND billing_mode = 'prepaid'",
                [tenant.customerID]).map { (try $0.decode(0, as: ResourceID.self), try $0.decode(1, as: String.self), try $0.decode(2, as: Bool?.self)) }
            #expect(Set(afterExpiry.map { "\($0.0 == prepaid[1]) \($0.1) \($0.2.map(String.init) ?? "nil")" }) == ["true expired true", "false active nil"])
            // The other one expires too, at its own deadline.
            let second: Int = try connection.withTransaction { connection in
                try connection.execute("UPDATE resources SET expires_at = now() - interval '1 second' WHERE customer_id = $1 AND id = $2",
                                       [tenant.customerID, prepaid[0]])
                return try connection.query(RetentionSweep.expireSQL, [tenant.customerID, 100]).single().decode(0)
            }
            #expect(second == 1)
            // The end of grace: grace_until = now() + 1 s stays expired, now() - 1 s is frozen.
            let frozen: Int = try connection.withTransaction { connection in
                try connection.execute("""
                    UPDATE resources SET grace_until = now() + CASE WHEN id = $2 THEN interval '1 second' ELSE interval '-1 second' END
                    WHERE customer_id = $1 AND billing_mode = 'prepaid'
                    """, [tenant.customerID, prepaid[0]])
                return try connection.query(RetentionSweep.freezeExpiredSQL, [tenant.customerID, 100]).single().decode(0)
            }
            #expect(frozen == 1)
            #expect(try await Self.prepaidStates(client, tenant) == ["expired": 1, "frozen:expired": 1])
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE id = $1 AND retention_until = grace_until + interval '900 seconds'", [prepaid[1]]) == 1)
            // The release: retention_until = now() + 1 s stays frozen, now() - 1 s is released.
            _ = try await world.freeze(tenant)
            let released: Int = try connection.withTransaction { connection in
                try connection.execute("""
                    UPDATE resources SET retention_until = now() + CASE WHEN billing_mode = 'prepaid' THEN interval '-1 second' ELSE interval '1 second' END
                    WHERE customer_id = $1 AND state = 'frozen'
                    """, [tenant.customerID])
                return try connection.query(RetentionSweep.releaseSQL, [tenant.customerID, 100]).single().decode(0)
            }
            #expect(released == 1)
            #expect(try await client.states(of: tenant, .payPerUse) == ["frozen": 2])
            #expect(try await Self.prepaidStates(client, tenant) == ["expired": 1, "released:expired": 1])
            // The scheduled lift: due at lift_at, not a second before.
            let due: [Int] = try connection.withTransaction { connection in
                var listed: [Int] = []
                for offset in ["1 second", "-1 second"] {
                    try connection.execute(
                        "UPDATE restrictions SET applied_at = now() - interval '1 hour', lift_at = now() + $2::interval WHERE customer_id = $1",
                        [tenant.customerID, offset])
                    listed.append(try connection.query(ScheduledLifts.dueSQL, [10]).count)
                }
                return listed
            }
            #expect(due == [0, 1])
            try await assertInvariants(client)
        }
    }

    /// A prepaid resource long past its expiry, with no grace and no retention, goes all the
    /// way in one run: expired, frozen for expiry, released, each with one audit event and
    /// its outbox event; its data is gone; a second run changes nothing.
    @Test func oneRunTakesAnOverdueResourceThroughEveryStep() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 1)
            try await Self.setPolicy(world, .v3, grace: 0, retention: 0)
            try await Self.setLevel(world, tenant, .v3)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(-60), count: 3)
            let sweep = RetentionSweep(client: client)
            let report = try await sweep.run(.init(batchSize: 2, warningWindow: 0))
            #expect(report.expired == 3)
            #expect(report.frozen == 3)
            #expect(report.released == 3)
            #expect(try await Self.prepaidStates(client, tenant) == ["active": 1, "released:expired": 3])
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 1])
            for action in ["resource.expired", "resource.frozen", "resource.released"] {
                #expect(try await client.auditCount(action, customer: tenant) == 3, "\(action)")
            }
            let mentions = try await Self.eventMentions(client, tenant, key: "e.type || coalesce(':' || (e.data->>'reason'), '')")
            #expect(mentions == ["resource.expired": 3, "resources.frozen:expired": 3, "resource.released:expired": 3])
            #expect(try await client.int(
                "SELECT count(*) FROM resource_data d JOIN resources r ON r.customer_id = d.customer_id AND r.id = d.resource_id WHERE r.customer_id = $1 AND r.state = 'released'",
                [tenant.customerID]) == 0)
            let after = try await DatabaseState.capture(client)
            let again = try await sweep.run(.init(batchSize: 2, warningWindow: 0))
            #expect(again.transitions == 0)
            #expect(try await DatabaseState.capture(client) == after)
            try await assertInvariants(client)
        }
    }

    /// Warnings come before each step, once per resource: `resource.expiring` ahead of the
    /// expiry, `resource.grace_expiring` ahead of the end of grace.
    @Test func warningsComeOnceBeforeEachStep() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            try await Self.setPolicy(world, .v0, grace: 3_600, retention: 3_600)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(1_800), count: 2)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(-600), count: 1)
            let sweep = RetentionSweep(client: client)
            let first = try await sweep.run(.init(batchSize: 10, warningWindow: 3_600))
            let second = try await sweep.run(.init(batchSize: 10, warningWindow: 3_600))
            #expect(first.expired == 1)
            #expect(first.warned == 3)  // two expiring, one whose grace ends within the hour
            #expect(second.warned == 0)
            let warned = try await Self.eventMentions(client, tenant, "e.type IN ('resource.expiring', 'resource.grace_expiring')")
            #expect(warned == ["resource.expiring": 2, "resource.grace_expiring": 1])
            try await assertInvariants(client)
        }
    }

    // MARK: Restrictions and prepaid resources

    /// A restriction never freezes a prepaid resource; its expiry does, also while the
    /// customer is restricted; lifting the restriction reactivates only what it froze; the
    /// purchase gate refuses the renewal while the customer is restricted.
    @Test func aRestrictedCustomersPrepaidResourcesRunOutThroughTheirOwnLifecycle() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 2, prepaid: 1)
            try await Self.setPolicy(world, .v0, grace: 0, retention: 3_600)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(-5), count: 1)
            let result = try await world.freeze(tenant)
            #expect(result.frozenResources == 2)
            #expect(try await Self.prepaidStates(client, tenant) == ["active": 2])
            let expiredID = try await client.query(
                "SELECT id FROM resources WHERE customer_id = $1 AND billing_mode = 'prepaid' AND expires_at < now()", [tenant.customerID]
            ).single().decode(0, as: ResourceID.self)
            try await expectRefusal(.purchaseRestricted, client) {
                try await world.services.purchases.order(
                    customerID: tenant.customerID, .renew(resourceID: expiredID, termMonths: 1), context: tenant.customer.context)
            }
            _ = try await RetentionSweep(client: client).run(.init(warningWindow: 0))
            #expect(try await Self.prepaidStates(client, tenant) == ["active": 1, "frozen:expired": 1])
            try await assertInvariants(client)
            let lifted = try await world.unfreeze(tenant)
            #expect(lifted.unfrozenResources == 2)
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 2])
            #expect(try await Self.prepaidStates(client, tenant) == ["active": 1, "frozen:expired": 1])
            try await assertInvariants(client)
        }
    }

    // MARK: Renewals and usage

    /// An expired resource is usable and renewable; a frozen-for-expiry one refuses usage
    /// (423) until a renewal reactivates it; the new term runs on from the old expiry; a
    /// released one is gone (410); an expired one is not changed before it is renewed.
    @Test func renewalsReactivateFromTheOldExpiry() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            // An hour of grace; thirty days of retention after it.
            try await Self.setPolicy(world, .v0, grace: 3_600, retention: 30 * 86_400)
            let expiry = Date().addingTimeInterval(-86_400 * 2)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(-60), count: 1)
            try await Self.prepaid(world, tenant, expiresAt: expiry, count: 1)
            _ = try await RetentionSweep(client: client).run(.init(warningWindow: 0))
            let rows = try await client.query(
                "SELECT id, state, expires_at FROM resources WHERE customer_id = $1 ORDER BY expires_at", [tenant.customerID])
            let frozenID: ResourceID = try rows[0].decode(0)
            let frozenExpiry: Date = try rows[0].decode(2)
            let expiredID: ResourceID = try rows[1].decode(0)
            #expect(try rows.map { try $0.decode(1, as: String.self) } == ["frozen", "expired"])
            let purchases = world.services.purchases
            let context = tenant.customer.context
            // Usage: accepted in grace, refused once frozen.
            #expect(try await purchases.recordUsage(customerID: tenant.customerID, resourceID: expiredID, quantity: 1, context: context).accepted)
            try await expectRefusal(.resourceFrozen, client) {
                try await purchases.recordUsage(customerID: tenant.customerID, resourceID: frozenID, quantity: 1, context: context)
            }
            try await expectRefusal(.resourceNotChangeable, client) {
                try await purchases.order(customerID: tenant.customerID, .change(resourceID: expiredID, spec: .object(["cpu": .number(4)])), context: context)
            }
            // One month from two days ago still ends in the future; the term runs from the old expiry.
            let renewed = try await purchases.order(customerID: tenant.customerID, .renew(resourceID: frozenID, termMonths: 1), context: context)
            #expect(renewed.resource.state == .active)
            #expect(renewed.resource.frozenReason == nil && renewed.resource.graceUntil == nil && renewed.resource.retentionUntil == nil)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let expected = calendar.date(byAdding: .month, value: 1, to: frozenExpiry)!
            #expect(abs(renewed.resource.expiresAt!.timeIntervalSince(expected)) < 0.001)
            #expect(try await purchases.recordUsage(customerID: tenant.customerID, resourceID: frozenID, quantity: 1, context: context).accepted)
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'resource.reactivated' AND data->>'previous_state' = 'frozen'",
                [tenant.customerID]) == 1)
            _ = try await purchases.order(customerID: tenant.customerID, .renew(resourceID: expiredID, termMonths: 1), context: context)
            #expect(try await Self.prepaidStates(client, tenant) == ["active": 2])
            try await assertInvariants(client)
        }
    }

    /// A renewal whose new term would still end in the past is refused and changes nothing;
    /// a released resource cannot be renewed.
    @Test func aRenewalMustReachTheFutureAndAReleasedResourceStaysGone() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            try await Self.setPolicy(world, .v0, grace: 0, retention: 0)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(-90 * 86_400), count: 1)
            let id = try await world.resourceIDs(tenant, .prepaid)[0]
            let purchases = world.services.purchases
            let before = try await DatabaseState.capture(client)
            try await expectRefusal(.validationFailed, client) {
                try await purchases.order(customerID: tenant.customerID, .renew(resourceID: id, termMonths: 1), context: tenant.customer.context)
            }
            #expect(try await DatabaseState.capture(client) == before)
            _ = try await RetentionSweep(client: client).run(.init(warningWindow: 0))
            try await expectRefusal(.resourceReleased, client) {
                try await purchases.order(customerID: tenant.customerID, .renew(resourceID: id, termMonths: 12), context: tenant.customer.context)
            }
            try await expectRefusal(.resourceReleased, client) {
                try await purchases.recordUsage(customerID: tenant.customerID, resourceID: id, quantity: 1, context: tenant.customer.context)
            }
            try await assertInvariants(client)
        }
    }

    // MARK: Scheduled lifts

    /// Moves a restriction's scheduled lift into the past (time passing).
    static func makeLiftDue(_ client: PostgresClient, _ tenant: Tenant) async throws {
        try await client.query(
            "UPDATE restrictions SET applied_at = now() - interval '2 hours', lift_at = now() - interval '1 hour' WHERE customer_id = $1 AND lifted_at IS NULL",
            [tenant.customerID])
    }

    /// A freeze with `lift_at` is lifted by the batch job then, as actor system, with one
    /// audit event naming the restriction and one customer.unrestricted event; the frozen
    /// resources are active again; a lift_at in the past or more than a year ahead is refused.
    @Test func theBatchJobLiftsAScheduledRestrictionOnce() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 3, prepaid: 1)
            let before = try await DatabaseState.capture(client)
            for liftAt in [Date().addingTimeInterval(-1), Date().addingTimeInterval(366 * 86_400)] {
                try await expectRefusal(.validationFailed, client) {
                    try await world.services.restrictions.freeze(
                        customerID: tenant.customerID,
                        FreezeRequest(reason: "unpaid", agreementAccepted: true, liftAt: liftAt), context: tenant.partner.context)
                }
            }
            #expect(try await DatabaseState.capture(client) == before)
            let liftAt = Date().addingTimeInterval(3_600)
            let frozen = try await world.services.restrictions.freeze(
                customerID: tenant.customerID, FreezeRequest(reason: "unpaid", agreementAccepted: true, liftAt: liftAt),
                context: tenant.partner.context)
            #expect(frozen.liftAt == liftAt)
            let customer = try await world.services.customers.get(tenant.partner.principal, customerID: tenant.customerID)
            #expect(abs(customer.activeRestriction!.liftAt!.timeIntervalSince(liftAt)) < 0.001)
            #expect(try await RetentionSweep(client: client).run(.init(warningWindow: 0)).lifted == 0)
            try await Self.makeLiftDue(client, tenant)
            #expect(try await RetentionSweep(client: client).run(.init(dryRun: true)).dueLifts == 1)
            let report = try await RetentionSweep(client: client).run(.init(warningWindow: 0))
            #expect(report.lifted == 1)
            #expect(try await client.status(of: tenant) == "normal")
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 3])
            let audit = try await client.query(
                "SELECT actor_kind, actor_id IS NULL, details->>'restriction_id', reason FROM audit_events WHERE action = 'customer.unrestricted' AND customer_id = $1",
                [tenant.customerID])
            #expect(audit.count == 1)
            #expect(try audit[0].decode(0, as: String.self) == "system")
            #expect(try audit[0].decode(1, as: Bool.self))
            #expect(try audit[0].decode(2, as: String.self) == frozen.restrictionId.lowercasedString)
            #expect(try audit[0].decode(3, as: String.self) == "scheduled lift")
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.unrestricted' AND data ? 'scheduled_lift_at'",
                [tenant.customerID]) == 1)
            #expect(try await RetentionSweep(client: client).run(.init(warningWindow: 0)).lifted == 0)
            try await assertInvariants(client)
        }
    }

    /// The scheduled lift racing a person's unfreeze: exactly one lift and one audit event,
    /// whichever gets the customer's lock first.
    @Test func aScheduledLiftRacingAnUnfreezeLiftsOnce() async throws {
        try await withTestDatabase(maximumConnections: 8) { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 20, prepaid: 1)
            var bySystem = 0
            var byPartner = 0
            for _ in 0..<12 {
                let frozen = try await world.services.restrictions.freeze(
                    customerID: tenant.customerID,
                    FreezeRequest(reason: "unpaid", agreementAccepted: true, liftAt: Date().addingTimeInterval(3_600)),
                    context: tenant.partner.context)
                try await Self.makeLiftDue(client, tenant)
                async let scheduled = ScheduledLifts(client: client).lift(customerID: tenant.customerID, restrictionID: frozen.restrictionId)
                async let manual: Bool = {
                    do {
                        _ = try await world.unfreeze(tenant)
                        return true
                    } catch let error as PartnerError where error.code == .customerNotRestricted {
                        return false
                    }
                }()
                let (system, partner) = try await (scheduled, manual)
                #expect(system != partner)
                if system { bySystem += 1 } else { byPartner += 1 }
                #expect(try await client.int(
                    "SELECT count(*) FROM audit_events WHERE action = 'customer.unrestricted' AND details->>'restriction_id' = $1",
                    [frozen.restrictionId.lowercasedString]) == 1)
            }
            #expect(bySystem + byPartner == 12)
            #expect(try await client.status(of: tenant) == "normal")
            try await assertInvariants(client)
        }
    }

    // MARK: Impact preview

    /// The preview counts what a freeze would freeze and which prepaid resources would run
    /// out, and leaves every table byte for byte as it was, verification codes included.
    @Test func thePreviewChangesNoTableByteForByte() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 4, prepaid: 1, dataBytes: 500)
            try await Self.setPolicy(world, .v0, grace: 86_400, retention: 86_400)
            try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(86_400), count: 2)
            try await world.requireCodes(for: tenant.partner.principal)
            _ = try await world.services.verificationCodes.issue(for: tenant.partner.principal, purpose: .freeze)
            let before = try await DatabaseState.capture(client, includingCodes: true)
            let preview = try await world.services.restrictions.preview(
                customerID: tenant.customerID, type: nil, liftAt: nil, principal: tenant.partner.principal)
            #expect(preview.frozenResources == 4)
            #expect(preview.dataBytesAtRisk == 2_000)
            #expect(preview.prepaidExpiringTotal == 2)
            #expect(preview.prepaidExpiring.allSatisfy { abs($0.graceUntil.timeIntervalSince($0.expiresAt) - 86_400) < 0.001 })
            let lifted = try await world.services.restrictions.preview(
                customerID: tenant.customerID, type: .purchase, liftAt: Date().addingTimeInterval(3_600), principal: tenant.partner.principal)
            #expect(lifted.frozenResources == 0 && lifted.prepaidExpiringTotal == 0 && lifted.retentionUntil == nil)
            #expect(try await DatabaseState.capture(client, includingCodes: true) == before)
        }
    }

    // MARK: Concurrent sweepers

    /// Three sweepers at once over expiries, freezes and releases of many customers: every
    /// transition happens exactly once (one audit event per resource and step).
    @Test func concurrentSweepersMoveEachResourceOnce() async throws {
        try await withTestDatabase(maximumConnections: 8) { (_, client) async throws in
            let world = try await World.build(client: client)
            try await Self.setPolicy(world, .v0, freeze: 0, grace: 0, retention: 0)
            var tenants: [Tenant] = []
            for _ in 0..<6 {
                let tenant = try await world.tenant(payPerUse: 40, prepaid: 0)
                try await Self.prepaid(world, tenant, expiresAt: Date().addingTimeInterval(-10), count: 60)
                _ = try await world.freeze(tenant)
                tenants.append(tenant)
            }
            let reports = try await withThrowingTaskGroup(of: RetentionSweep.Report.self) { group in
                for _ in 0..<3 {
                    group.addTask { try await RetentionSweep(client: client).run(.init(batchSize: 7, warningWindow: 0)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.expired).reduce(0, +) == 360)
            #expect(reports.map(\.frozen).reduce(0, +) == 360)
            #expect(reports.map(\.released).reduce(0, +) == 600)
            #expect(try await client.int("SELECT count(*) FROM audit_events WHERE action = 'resource.expired'") == 360)
            #expect(try await client.int("SELECT count(*) FROM audit_events WHERE action = 'resource.frozen'") == 360)
            #expect(try await client.int("SELECT count(*) FROM audit_events WHERE action = 'resource.released'") == 600)
            #expect(try await client.int("SELECT count(DISTINCT target_id) FROM audit_events WHERE action = 'resource.released'") == 600)
            #expect(try await client.int("SELECT count(*) FROM resources WHERE state <> 'released'") == 0)
            try await assertInvariants(client)
        }
    }

    // MARK: Retention by level

    /// A freeze's retention: the distributor's own when set, else the level's policy; a
    /// policy change applies to freezes after it, not to deadlines already set.
    @Test func aFreezesRetentionComesFromTheDistributorElseTheLevel() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            try await Self.setPolicy(world, .v2, freeze: 7_200, grace: 60, retention: 60)
            let byLevel = try await world.tenant(retentionSeconds: nil, payPerUse: 1, prepaid: 0)
            let byDistributor = try await world.tenant(retentionSeconds: 600, payPerUse: 1, prepaid: 0)
            let byDefault = try await world.tenant(retentionSeconds: nil, payPerUse: 1, prepaid: 0)
            try await Self.setLevel(world, byLevel, .v2)
            try await Self.setLevel(world, byDistributor, .v2)
            func seconds(_ result: FreezeResult) -> Int { Int((result.retentionUntil!.timeIntervalSinceNow).rounded()) }
            #expect(abs(seconds(try await world.freeze(byLevel)) - 7_200) <= 5)
            #expect(abs(seconds(try await world.freeze(byDistributor)) - 600) <= 5)
            #expect(abs(seconds(try await world.freeze(byDefault)) - 1_296_000) <= 5)
            let before = try await client.int(
                "SELECT extract(epoch FROM retention_until)::bigint FROM resources WHERE customer_id = $1", [byLevel.customerID])
            try await Self.setPolicy(world, .v2, freeze: 60, grace: 60, retention: 60)
            #expect(try await client.int(
                "SELECT extract(epoch FROM retention_until)::bigint FROM resources WHERE customer_id = $1", [byLevel.customerID]) == before)
            try await assertInvariants(client)
        }
    }

    @Test func policiesAndLevelsAreTheOperatorsAndValidated() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            let policies = try await world.services.retentionPolicies.list()
            #expect(policies.map(\.level) == CustomerLevel.allCases)
            #expect(policies.allSatisfy { $0.freezeRetentionSeconds == 1_296_000 && $0.prepaidGraceSeconds == 1_296_000 })
            let before = try await DatabaseState.capture(client)
            try await expectRefusal(.forbidden, client) {
                try await world.services.retentionPolicies.update(
                    level: .v1, freezeRetentionSeconds: 1, prepaidGraceSeconds: 1, prepaidRetentionSeconds: 1, context: tenant.partner.context)
            }
            try await expectRefusal(.validationFailed, client) {
                try await world.services.retentionPolicies.update(
                    level: .v1, freezeRetentionSeconds: 1, prepaidGraceSeconds: 31_536_001, prepaidRetentionSeconds: 1,
                    context: world.operatorContext)
            }
            try await expectRefusal(.forbidden, client) {
                try await world.services.provisioning.updateCustomer(id: tenant.customerID, level: .v5, context: tenant.distributor.context)
            }
            #expect(try await DatabaseState.capture(client) == before)
            let customer = try await world.services.provisioning.updateCustomer(
                id: tenant.customerID, level: .v5, context: world.operatorContext)
            #expect(customer.level == .v5)
            #expect(try await client.auditCount("customer.updated", customer: tenant) == 1)
        }
    }
}
