import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §3 invariants 2 and 6 under concurrency, through the real services and pool.
///
/// Commit order is read from PostgreSQL itself: `pg_xact_commit_timestamp(xmin)` of a row is
/// when the transaction that wrote it committed (the cluster runs with
/// `track_commit_timestamp = on`; the tests fail, not skip, without it).
@Suite("Races", .serialized)
struct RaceTests {
    static func requireCommitTimestamps(_ client: PostgresClient) async throws {
        let setting = try await client.string("SHOW track_commit_timestamp")
        try #require(
            setting == "on",
            "track_commit_timestamp is \(setting ?? "unset"): start PostgreSQL with -c track_commit_timestamp=on (Scripts/db does); without it commit order cannot be proven")
    }

    enum Outcome: Sendable, Equatable {
        case done
        case refused(String)
        case failed(String)

        init(_ body: () async throws -> Void) async {
            do {
                try await body()
                self = .done
            } catch let error as PartnerError {
                self = .refused(error.code.rawValue)
            } catch {
                self = .failed(String(describing: error))
            }
        }
    }

    struct Attempt: Sendable {
        var isFreeze: Bool
        var outcome: Outcome
    }

    /// 200 trials: one freeze released in the middle of 20 concurrent buys of one customer,
    /// through a pool of 8 connections. No order may commit after the restriction did.
    @Test func noPurchaseCommitsAfterAFreeze() async throws {
        try await withTestDatabase(maximumConnections: 8) { (_, client) async throws in
            try await Self.requireCommitTimestamps(client)
            let world = try await World.build(client: client)
            let first = try await world.tenant(payPerUse: 0, prepaid: 0)
            var trials = [first]
            for _ in 1..<200 { trials.append(try await world.customer(of: first, payPerUse: 0, prepaid: 0)) }

            var bought = 0
            var refused = 0
            for tenant in trials {
                let outcomes = await withTaskGroup(of: Attempt.self) { group in
                    for index in 0..<20 {
                        if index == 10 {
                            group.addTask { Attempt(isFreeze: true, outcome: await Outcome { _ = try await world.freeze(tenant) }) }
                        }
                        let billingMode: BillingMode = index % 2 == 0 ? .payPerUse : .prepaid
                        group.addTask {
                            Attempt(isFreeze: false, outcome: await Outcome {
                                _ = try await world.services.purchases.order(
                                    customerID: tenant.customerID,
                                    .buy(type: "ecs.instance", billingMode: billingMode, termMonths: nil, spec: nil),
                                    context: tenant.customer.context)
                            })
                        }
                    }
                    var attempts: [Attempt] = []
                    for await attempt in group { attempts.append(attempt) }
                    return attempts
                }
                #expect(outcomes.count == 21)
                #expect(outcomes.filter { $0.isFreeze }.map { $0.outcome } == [.done])
                let buys = outcomes.filter { !$0.isFreeze }.map { $0.outcome }
                #expect(buys.allSatisfy { $0 == .done || $0 == .refused("purchase_restricted") }, "\(buys)")
                let trialBought = buys.filter { $0 == .done }.count
                bought += trialBought
                refused += buys.filter { $0 == .refused("purchase_restricted") }.count
                // Every answered purchase is in the database, and only those.
                let orders = try await client.int("SELECT count(*) FROM orders WHERE customer_id = $1", [tenant.customerID])
                #expect(orders == trialBought, "\(buys)")
            }

            let commits = try await client.query("""
                SELECT count(*) FILTER (WHERE pg_xact_commit_timestamp(o.xmin) IS NULL OR pg_xact_commit_timestamp(x.xmin) IS NULL),
                       count(*) FILTER (WHERE pg_xact_commit_timestamp(o.xmin) >= pg_xact_commit_timestamp(x.xmin)),
                       count(*)
                FROM orders o JOIN restrictions x ON x.customer_id = o.customer_id
                """).single()
            #expect(try commits.decode(0, as: Int.self) == 0, "commit timestamps missing")
            #expect(try commits.decode(1, as: Int.self) == 0, "a purchase committed after the freeze of its customer")
            #expect(try commits.decode(2, as: Int.self) == bought)
            // The race was real: both sides of it happened.
            #expect(bought > 0)
            #expect(refused > 0)
            try await assertInvariants(client)
        }
    }

    /// A freeze, a second freeze of the other type and an unfreeze of one customer at once:
    /// the outcomes must be those of some serial order, and the database must show it.
    @Test func freezeUnfreezeAndASecondFreezeSerialize() async throws {
        try await withTestDatabase(maximumConnections: 6) { (_, client) async throws in
            let world = try await World.build(client: client)
            let first = try await world.tenant(payPerUse: 2, prepaid: 1)
            for trial in 0..<40 {
                let tenant = trial == 0 ? first : try await world.customer(of: first, payPerUse: 2, prepaid: 1)
                let startsRestricted = trial % 2 == 1
                if startsRestricted { _ = try await world.freeze(tenant, type: .purchase) }
                async let freezeAll = Outcome { _ = try await world.freeze(tenant, type: .purchaseAndResources) }
                async let freezePurchase = Outcome { _ = try await world.freeze(tenant, type: .purchase) }
                async let unfreeze = Outcome { _ = try await world.unfreeze(tenant) }
                let observed = await [freezeAll, freezePurchase, unfreeze]
                let finalStatus = try #require(try await client.status(of: tenant))
                let explanation = Self.serialOrder(
                    explaining: observed, finalStatus: finalStatus, startsRestricted: startsRestricted)
                #expect(explanation != nil, "trial \(trial): \(observed) ending \(finalStatus) fits no serial order")

                let succeededFreezes = observed[0..<2].filter { $0 == .done }.count + (startsRestricted ? 1 : 0)
                let succeededLifts = observed[2] == .done ? 1 : 0
                let rows = try await client.query(
                    "SELECT count(*), count(*) FILTER (WHERE lifted_at IS NOT NULL) FROM restrictions WHERE customer_id = $1",
                    [tenant.customerID]).single()
                #expect(try rows.decode(0, as: Int.self) == succeededFreezes)
                #expect(try rows.decode(1, as: Int.self) == succeededLifts)
                let payPerUse = try await client.states(of: tenant, .payPerUse)
                #expect(payPerUse == (finalStatus == "frozen" ? ["frozen": 2] : ["active": 2]))
            }
            try await assertInvariants(client)
        }
    }

    /// The serial order (of freeze-all, freeze-purchase, unfreeze) that yields `observed`
    /// and `finalStatus`, if there is one.
    static func serialOrder(explaining observed: [Outcome], finalStatus: String, startsRestricted: Bool) -> [Int]? {
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        for order in orders {
            var status = startsRestricted ? "purchase_restricted" : "normal"
            var outcomes = [Outcome](repeating: .done, count: 3)
            for step in order {
                switch step {
                case 0, 1:
                    if status == "normal" {
                        status = step == 0 ? "frozen" : "purchase_restricted"
                    } else {
                        outcomes[step] = .refused("customer_already_restricted")
                    }
                default:
                    if status == "normal" { outcomes[step] = .refused("customer_not_restricted") } else { status = "normal" }
                }
            }
            if outcomes == observed && status == finalStatus { return order }
        }
        return nil
    }

    /// A partner's freeze racing its distributor's revoke: the freeze either committed while
    /// the grant was in force (before the revoke committed) or was refused with
    /// `permission_not_granted` and left nothing behind.
    @Test func aFreezeRacingTheRevokeOfItsGrantHappensUnderTheGrantOrNotAtAll() async throws {
        try await withTestDatabase(maximumConnections: 6) { (_, client) async throws in
            try await Self.requireCommitTimestamps(client)
            let world = try await World.build(client: client)
            let distributor = try await world.tenant(partnerHoldsGrant: false, payPerUse: 0, prepaid: 0)
            var froze = 0
            var refused = 0
            for trial in 0..<40 {
                let tenant = try await world.tenant(under: distributor.distributor, partnerHoldsGrant: true, payPerUse: 2, prepaid: 1)
                async let freeze = Outcome { _ = try await world.freeze(tenant) }
                async let revoke = Outcome {
                    _ = try await world.services.grants.revoke(partnerID: tenant.partnerID, context: tenant.distributor.context)
                }
                let (freezeOutcome, revokeOutcome) = await (freeze, revoke)
                #expect(revokeOutcome == .done)
                let restriction = try await client.query("""
                    SELECT x.type, pg_xact_commit_timestamp(x.xmin) < pg_xact_commit_timestamp(g.xmin)
                    FROM restrictions x, freeze_permission_grants g
                    WHERE x.customer_id = $1 AND g.partner_id = $2 AND g.revoked_at IS NOT NULL
                    """, [tenant.customerID, tenant.partnerID])
                switch freezeOutcome {
                case .done:
                    froze += 1
                    let row = try #require(restriction.first, "trial \(trial): the freeze succeeded but left no restriction")
                    #expect(try row.decode(1, as: Bool.self), "trial \(trial): the freeze committed after the revoke")
                    // The distributor has taken the restriction over.
                    _ = try await world.unfreeze(tenant, as: tenant.distributor.principal)
                case .refused(let code):
                    refused += 1
                    #expect(code == "permission_not_granted")
                    #expect(restriction.isEmpty)
                    #expect(try await client.status(of: tenant) == "normal")
                    #expect(try await client.states(of: tenant, .payPerUse) == ["active": 2])
                case .failed(let description):
                    Issue.record("trial \(trial): \(description)")
                }
            }
            #expect(froze + refused == 40)
            try await assertInvariants(client)
        }
    }

    /// The same race staged so that the revoke holds the partner row first: the waiting
    /// freeze must read the grant after it gets the lock, and so be refused.
    @Test func aFreezeWaitingOnARevokeSeesTheRevoke() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(partnerHoldsGrant: true)
            let revoker = try Session(database)
            // Grants.revoke's statements, held open: lock the partner, close the grant.
            try await revoker.simple("BEGIN")
            try await revoker.query("SELECT 1 FROM partners WHERE id = $1 FOR UPDATE", [tenant.partnerID])
            try await revoker.query("""
                UPDATE freeze_permission_grants SET revoked_at = now(), revoked_by_kind = 'distributor', revoked_by_id = $2
                WHERE partner_id = $1 AND revoked_at IS NULL
                """, [tenant.partnerID, tenant.distributorID])
            async let freeze = Outcome { _ = try await world.freeze(tenant) }
            _ = try await waitForBlockedBackend(except: [revoker.backendPID], client)
            try await revoker.simple("COMMIT")
            #expect(await freeze == .refused("permission_not_granted"))
            await revoker.close()
            #expect(try await client.status(of: tenant) == "normal")
            #expect(try await client.int("SELECT count(*) FROM restrictions") == 0)
        }
    }
}
