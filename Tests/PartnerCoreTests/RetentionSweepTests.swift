import Foundation
@testable import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Retention" and §3 invariants 3 and 4: the sweep releases a frozen pay-per-use
/// resource only after its deadline, deletes its data, does so exactly once however many
/// sweepers run, and never touches prepaid resources.
@Suite("Retention sweep", .serialized)
struct RetentionSweepTests {
    /// Released resources, each with exactly one audit event and named by exactly one outbox
    /// event: `(released, audit events, outbox mentions, distinct outbox mentions)`.
    static func releaseLedger(_ client: PostgresClient) async throws -> (Int, Int, Int, Int) {
        let row = try await client.query("""
            SELECT (SELECT count(*) FROM resources WHERE state = 'released'),
                   (SELECT count(*) FROM audit_events WHERE action = 'resource.released'),
                   (SELECT count(*) FROM outbox_events e, jsonb_array_elements_text(e.data->'resource_ids') m(resource_id)
                    WHERE e.type = 'resource.released'),
                   (SELECT count(DISTINCT m.resource_id) FROM outbox_events e,
                           jsonb_array_elements_text(e.data->'resource_ids') m(resource_id)
                    WHERE e.type = 'resource.released')
            """).single()
        return (try row.decode(0), try row.decode(1), try row.decode(2), try row.decode(3))
    }

    /// A batch names one customer (on Citus a single-shard statement): it claims that
    /// customer's due resources and no other's, and the run goes customer by customer.
    @Test func aBatchClaimsOnlyTheCustomerItNames() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let named = try await world.tenant(retentionSeconds: 0, payPerUse: 3, prepaid: 1)
            let other = try await world.customer(of: named, payPerUse: 2, prepaid: 1)
            _ = try await world.freeze(named)
            _ = try await world.freeze(other)
            let released: Int = try await client.query(RetentionSweep.releaseSQL, [named.customerID, 100]).single().decode(0)
            #expect(released == 3)
            #expect(try await client.states(of: named, .payPerUse) == ["released": 3])
            #expect(try await client.states(of: other, .payPerUse) == ["frozen": 2])
            let report = try await RetentionSweep(client: client).run(.init(batchSize: 1, warningWindow: 0))
            #expect(report.released == 2)
            #expect(report.batches == 2)
            #expect(try await client.states(of: other, .payPerUse) == ["released": 2])
            #expect(try await Self.releaseLedger(client) == (5, 5, 5, 5))
            try await assertInvariants(client)
        }
    }

    /// Integration events older than the outbox retention are deleted by the sweep, an hour
    /// of them per statement; younger ones stay (DESIGN §11).
    @Test func theSweepDeletesEventsPastTheOutboxRetention() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 3_600, payPerUse: 2, prepaid: 0)
            _ = try await world.freeze(tenant)
            _ = try await world.unfreeze(tenant)
            let events = try await client.int("SELECT count(*) FROM outbox_events WHERE customer_id = $1", [tenant.customerID])
            #expect(events >= 4)
            // All but the newest two are made 40 days and a few hours old, spread over hours.
            try await client.query("""
                UPDATE outbox_events SET occurred_at = now() - interval '40 days' - make_interval(hours => (id % 5)::integer)
                WHERE customer_id = $1 AND id NOT IN (SELECT id FROM outbox_events WHERE customer_id = $1 ORDER BY id DESC LIMIT 2)
                """, [tenant.customerID])
            // A webhook's attempts go with the events: one 40 days old, one new.
            try await client.query("""
                WITH hook AS (
                    INSERT INTO webhook_subscriptions (owner_kind, distributor_id, url, secret_sealed, secret_prefix, created_by_kind, created_by_id)
                    SELECT 'distributor', distributor_id, 'https://hooks.example.com/x', '\\x00', 'whsec_x', 'distributor', distributor_id
                    FROM customers WHERE id = $1 RETURNING id, distributor_id)
                INSERT INTO webhook_deliveries (subscription_id, distributor_id, event_id, event_type, attempt, attempted_at, duration_ms, status_code, outcome)
                SELECT id, distributor_id, 1, 'customer.restricted', 1, at, 5, 200, 'delivered'
                FROM hook, (VALUES (now() - interval '40 days'), (now())) AS t (at)
                """, [tenant.customerID])
            // The sweep as it runs in production: as the application role, which may only
            // append events.
            let application = try await database.applicationClient()
            let report = try await RetentionSweep(client: application).run(.init(warningWindow: 0))
            #expect(report.outboxEventsPurged == events - 2)
            #expect(report.webhookAttemptsPurged == 1)
            #expect(try await client.int("SELECT count(*) FROM webhook_deliveries") == 1)
            #expect(try await client.int("SELECT count(*) FROM outbox_events WHERE customer_id = $1", [tenant.customerID]) == 2)
            // A shorter retention takes the rest.
            let short = try await RetentionSweep(client: application).run(.init(warningWindow: 0, outboxRetention: 0))
            #expect(short.outboxEventsPurged >= 2)
            await application.shutdown()
        }
    }

    @Test func nothingIsReleasedBeforeItsDeadline() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let retained = try await world.tenant(retentionSeconds: 3_600, payPerUse: 4, prepaid: 2)
            let due = try await world.tenant(retentionSeconds: 0, payPerUse: 3, prepaid: 2)
            _ = try await world.freeze(retained)
            _ = try await world.freeze(due)
            var first: RetentionSweep.Report?
            let report = try await RetentionSweep(client: client).run(.init(batchSize: 2, warningWindow: 0), progress: { progress in
                if first == nil { first = progress }
            })
            #expect(report.released == 3)
            // The total due is known, and reported, before the first batch.
            #expect(first?.totalDue == 3 && first?.done == 0)
            #expect(report.totalDue == 3 && report.done == 3)
            #expect(try await client.states(of: retained, .payPerUse) == ["frozen": 4])
            #expect(try await client.states(of: due, .payPerUse) == ["released": 3])
            for tenant in [retained, due] {
                #expect(try await client.states(of: tenant, .prepaid) == ["active": 2])
            }
            // Data goes with the release, and only then.
            #expect(try await client.int("SELECT count(*) FROM resource_data WHERE customer_id = $1", [retained.customerID]) == 6)
            #expect(try await client.int("SELECT count(*) FROM resource_data WHERE customer_id = $1", [due.customerID]) == 2)
            #expect(try await client.int("SELECT count(*) FROM resources WHERE state = 'released' AND released_at < retention_until") == 0)
            let ledger = try await Self.releaseLedger(client)
            #expect(ledger == (3, 3, 3, 3))
            try await assertInvariants(client)
        }
    }

    @Test func aSecondRunReleasesNothing() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 0, payPerUse: 5, prepaid: 1)
            _ = try await world.freeze(tenant)
            let sweep = RetentionSweep(client: client)
            #expect(try await sweep.run(.init(batchSize: 2)).released == 5)
            let after = try await DatabaseState.capture(client)
            let again = try await sweep.run(.init(batchSize: 2))
            #expect(again.released == 0)
            #expect(again.warned == 0)
            #expect(try await DatabaseState.capture(client) == after)
            try await assertInvariants(client)
        }
    }

    @Test func aDryRunCountsAndChangesNothing() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let due = try await world.tenant(retentionSeconds: 0, payPerUse: 4, prepaid: 1)
            let soon = try await world.tenant(retentionSeconds: 86_400, payPerUse: 2, prepaid: 1)
            _ = try await world.freeze(due)
            _ = try await world.freeze(soon)
            let before = try await DatabaseState.capture(client)
            let report = try await RetentionSweep(client: client).run(.init(dryRun: true))
            #expect(report.dryRun)
            #expect(report.due == 4)
            #expect(report.warned == 2)
            #expect(report.released == 0)
            #expect(try await DatabaseState.capture(client) == before)
        }
    }

    @Test func aBatchSizeOutOfRangeIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            for size in [0, 100_001] {
                try await expectRefusal(.validationFailed, client) {
                    try await RetentionSweep(client: client).run(.init(batchSize: size))
                }
            }
        }
    }

    /// Resources within the warning window get one `resource.retention_expiring` event each,
    /// however often the sweep runs; nothing is released early.
    @Test func expiringSoonEventsAreEmittedOncePerResource() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let soon = try await world.tenant(retentionSeconds: 86_400, payPerUse: 5, prepaid: 1)
            let later = try await world.tenant(retentionSeconds: 30 * 86_400, payPerUse: 2, prepaid: 0)
            _ = try await world.freeze(soon)
            _ = try await world.freeze(later)
            let sweep = RetentionSweep(client: client)
            let first = try await sweep.run(.init(batchSize: 2))
            let second = try await sweep.run(.init(batchSize: 2))
            #expect(first.warned == 5)
            #expect(second.warned == 0)
            #expect(first.released + second.released == 0)
            let mentions = try await client.query("""
                SELECT m.resource_id::uuid, count(*)
                FROM outbox_events e, jsonb_array_elements_text(e.data->'resource_ids') m(resource_id)
                WHERE e.type = 'resource.retention_expiring' GROUP BY m.resource_id
                """).map { (try $0.decode(0, as: ResourceID.self), try $0.decode(1, as: Int.self)) }
            #expect(Set(mentions.map(\.0)) == Set(try await world.resourceIDs(soon, .payPerUse)))
            #expect(mentions.allSatisfy { $0.1 == 1 })
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE retention_warned_at IS NOT NULL AND customer_id = $1", [soon.customerID]) == 5)
            #expect(try await client.states(of: soon, .payPerUse) == ["frozen": 5])
            try await assertInvariants(client)
        }
    }

    /// Three sweepers, each with its own client, over 10,000 due resources: every resource
    /// released exactly once, with one audit event and one outbox mention.
    @Test func threeConcurrentSweepersReleaseEachResourceOnce() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let first = try await world.tenant(retentionSeconds: 0, payPerUse: 1_000, prepaid: 2, dataBytes: 64)
            var tenants = [first]
            for _ in 1..<10 { tenants.append(try await world.customer(of: first, payPerUse: 1_000, prepaid: 2, dataBytes: 64)) }
            for tenant in tenants { _ = try await world.freeze(tenant) }
            #expect(try await client.int("SELECT count(*) FROM resources WHERE state = 'frozen' AND retention_until <= now()") == 10_000)

            let sweepers = try (0..<3).map { _ in try database.client(maximumConnections: 1) }
            let reports = try await withThrowingTaskGroup(of: RetentionSweep.Report.self) { group in
                for sweeper in sweepers {
                    group.addTask { try await RetentionSweep(client: sweeper).run(.init(batchSize: 100)) }
                }
                var reports: [RetentionSweep.Report] = []
                for try await report in group { reports.append(report) }
                return reports
            }
            for sweeper in sweepers { await sweeper.shutdown() }

            #expect(reports.map(\.released).reduce(0, +) == 10_000)
            let ledger = try await Self.releaseLedger(client)
            #expect(ledger == (10_000, 10_000, 10_000, 10_000))
            #expect(try await client.int(
                "SELECT count(*) FROM resource_data d JOIN resources r ON r.customer_id = d.customer_id AND r.id = d.resource_id WHERE r.billing_mode = 'prepaid'") == 20)
            try await assertInvariants(client)
        }
    }

    /// An unfreeze and a sweep over the same customer at once: every resource ends either
    /// active with its data or released without it, and the unfreeze accounts for all.
    @Test func anUnfreezeRacingTheSweepLeavesEveryResourceWholeOrGone() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            for trial in 0..<5 {
                let tenant = try await world.tenant(retentionSeconds: 0, payPerUse: 2_000, prepaid: 2, dataBytes: 16)
                _ = try await world.freeze(tenant)
                let sweeper = try database.client(maximumConnections: 1)
                async let sweep = RetentionSweep(client: sweeper).run(.init(batchSize: 100))
                try await Task.sleep(for: .milliseconds(5 * trial))
                let lifted = try await world.unfreeze(tenant)
                _ = try await sweep
                await sweeper.shutdown()
                #expect(lifted.unfrozenResources + lifted.releasedResources == 2_000, "trial \(trial)")
                let wholeOrGone = try await client.query("""
                    SELECT count(*) FILTER (WHERE r.state = 'active' AND d.resource_id IS NOT NULL),
                           count(*) FILTER (WHERE r.state = 'released' AND d.resource_id IS NULL),
                           count(*)
                    FROM resources r LEFT JOIN resource_data d ON d.customer_id = r.customer_id AND d.resource_id = r.id
                    WHERE r.customer_id = $1 AND r.billing_mode = 'pay_per_use'
                    """, [tenant.customerID]).single()
                #expect(try wholeOrGone.decode(0, as: Int.self) == lifted.unfrozenResources, "trial \(trial)")
                #expect(try wholeOrGone.decode(1, as: Int.self) == lifted.releasedResources, "trial \(trial)")
                #expect(try wholeOrGone.decode(2, as: Int.self) == 2_000)
            }
            try await assertInvariants(client)
        }
    }

    /// Staged: a sweep batch holds rows of the customer while the unfreeze waits for them.
    /// When the batch commits, those resources are released — and the unfreeze must report
    /// them as not recoverable, not lose them from its count.
    @Test func anUnfreezeReportsResourcesReleasedWhileItWaited() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 0, payPerUse: 10, prepaid: 1)
            _ = try await world.freeze(tenant)
            let sweeper = try Session(database)
            try await sweeper.simple("BEGIN")
            let released: Int = try await sweeper.query(RetentionSweep.releaseSQL, [tenant.customerID, 4]).single().decode(0)
            #expect(released == 4)
            async let lifted = world.unfreeze(tenant)
            _ = try await waitForBlockedBackend(except: [sweeper.backendPID], client)
            try await sweeper.simple("COMMIT")
            let result = try await lifted
            await sweeper.close()
            #expect(result.unfrozenResources == 6)
            #expect(result.releasedResources == 4)
            #expect(result.notRecoverableResourceIds.count == 4)
            #expect(Set(result.notRecoverableResourceIds) == Set(try await client.query(
                "SELECT id FROM resources WHERE customer_id = $1 AND state = 'released'", [tenant.customerID]
            ).map { try $0.decode(0, as: ResourceID.self) }))
            #expect(try await client.int("""
                SELECT count(*) FROM audit_events WHERE action = 'customer.unrestricted' AND customer_id = $1
                  AND (details->>'released_resources')::int = 4 AND (details->>'unfrozen_resources')::int = 6
                """, [tenant.customerID]) == 1)
            try await assertInvariants(client)
        }
    }
}
