import Foundation
@testable import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §10, budgets: decimal spend, alerts once per threshold and period, the automatic
/// restriction and its lift, monthly periods, and the freeze's authority rules for setting a
/// budget.
@Suite("Budgets", .serialized)
struct BudgetTests {
    static func price(_ world: World, _ type: String, usage: String, monthly: String) async throws {
        _ = try await world.services.prices.set(resourceType: type, usageUnitPrice: usage, monthlyPrice: monthly, context: world.operatorContext)
    }

    @discardableResult
    static func setBudget(
        _ world: World, _ tenant: Tenant, amount: String, period: BudgetPeriod = .monthly, policy: BudgetPolicy = .restrictPurchase,
        as principal: Principal? = nil, agreement: Bool = true, code: String? = nil, now: Date? = nil
    ) async throws -> Budget {
        try await world.services.budgets.set(
            customerID: tenant.customerID,
            BudgetRequest(amount: amount, period: period, onExhaustion: policy, agreementAccepted: agreement, verificationCode: code),
            now: now, context: (principal ?? tenant.partner.principal).context)
    }

    /// `count` usage records of `quantity` on the resource, through record_usage (the
    /// statement the usage endpoint runs), in one statement (the call names `g`, so it runs
    /// once per row).
    static func use(_ client: PostgresClient, _ tenant: Tenant, _ resourceID: ResourceID, quantity: String, count: Int = 1) async throws {
        let recorded = try await client.int(
            "SELECT count(*) FROM generate_series(1, $3) g, LATERAL record_usage($1, $2, $4::numeric + 0 * g) u WHERE u.recorded = 1",
            [tenant.customerID, resourceID, count, quantity])
        try #require(recorded == count)
    }

    static func budget(_ world: World, _ tenant: Tenant) async throws -> Budget {
        try await world.services.budgets.get(tenant.partner.principal, customerID: tenant.customerID)
    }

    /// `percent → events` of the tenant's threshold alerts.
    static func alerts(_ client: PostgresClient, _ tenant: Tenant) async throws -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: try await client.query("""
            SELECT (data->>'percent')::integer, count(*) FROM outbox_events
            WHERE customer_id = $1 AND type = 'budget.threshold_reached' GROUP BY 1
            """, [tenant.customerID]).map { (try $0.decode(0, as: Int.self), try $0.decode(1, as: Int.self)) })
    }

    /// The tenant's active restriction: origin and who applied it.
    static func activeRestriction(_ client: PostgresClient, _ tenant: Tenant) async throws -> String? {
        try await client.string(
            "SELECT (SELECT origin || ' ' || applied_by_kind || ' ' || reason FROM restrictions WHERE customer_id = $1 AND lifted_at IS NULL)",
            [tenant.customerID])
    }

    // MARK: Spend

    /// 10,000 records of 0.1 units at 0.1 each: 100 exactly. Summed as binary floating point,
    /// the same costs make 100.00000000001425.
    @Test func spendIsExactDecimalArithmeticOverTenThousandRecords() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 2, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "0.1", monthly: "0")
            try await Self.setBudget(world, tenant, amount: "1000", policy: .notify)
            let resources = try await world.resourceIDs(tenant, .payPerUse)
            try await Self.use(client, tenant, resources[0], quantity: "0.1", count: 5_000)
            _ = try await world.services.budgetSettlement.run()
            try await Self.use(client, tenant, resources[1], quantity: "0.1", count: 5_000)
            _ = try await world.services.budgetSettlement.run()
            let budget = try await Self.budget(world, tenant)
            #expect(budget.spent == "100")
            #expect(budget.remaining == "900")
            #expect(budget.percentUsed == 10)
            #expect(try await client.string("SELECT sum(cost)::text FROM usage_records WHERE customer_id = $1", [tenant.customerID])
                == "100.000000000000")
            #expect(try await client.int("SELECT count(*) FROM budget_charges") == 0)
            var floating = 0.0
            for _ in 0..<10_000 { floating += 0.1 * 0.1 }
            #expect(floating != 100, "the floating-point sum this test guards against")
            try await assertInvariants(client)
        }
    }

    /// A prepaid buy and a renewal cost the monthly price × months; pay-per-use buys and
    /// unpriced types cost nothing. A budget set later counts what its period already spent.
    @Test func ordersCostTheirMonthsAndANewBudgetCountsThePeriodSoFar() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            try await Self.price(world, "rds.instance", usage: "0", monthly: "12.50")
            try await Self.price(world, "ecs.instance", usage: "0.003", monthly: "0")
            let order = try await world.services.purchases.order(
                customerID: tenant.customerID, .buy(type: "rds.instance", billingMode: .prepaid, termMonths: 3, spec: nil),
                context: tenant.customer.context)
            _ = try await world.services.purchases.order(
                customerID: tenant.customerID, .renew(resourceID: order.resourceId, termMonths: 2), context: tenant.customer.context)
            _ = try await world.services.purchases.order(
                customerID: tenant.customerID, .buy(type: "ecs.instance", billingMode: .payPerUse, termMonths: nil, spec: nil),
                context: tenant.customer.context)
            _ = try await world.services.purchases.order(
                customerID: tenant.customerID, .buy(type: "unpriced.type", billingMode: .prepaid, termMonths: 1, spec: nil),
                context: tenant.customer.context)
            let usage = try await world.resourceIDs(tenant, .payPerUse)[0]
            _ = try await world.services.purchases.recordUsage(
                customerID: tenant.customerID, resourceID: usage, quantity: 7, context: tenant.customer.context)
            #expect(try await client.string(
                "SELECT string_agg(action || ':' || trim_scale(cost)::text, ' ' ORDER BY created_at, action) FROM orders WHERE customer_id = $1",
                [tenant.customerID]) == "buy:37.5 renew:25 buy:0 buy:0")
            // Set after the writes: 37.5 + 25 + 7 × 0.003 = 62.521, and every charge drained.
            let budget = try await Self.setBudget(world, tenant, amount: "100", policy: .notify)
            #expect(budget.spent == "62.521")
            #expect(budget.thresholdsReached == [])
            #expect(try await client.int("SELECT count(*) FROM budget_charges") == 0)
            _ = try await world.services.budgetSettlement.run()
            #expect(try await Self.budget(world, tenant).spent == "62.521")
        }
    }

    /// Charges of a customer without a budget wait for the less frequent drop; a budget set
    /// later counts the period's records all the same.
    @Test func chargesWithoutABudgetAreDroppedAndABudgetSetLaterStillCountsThem() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "0.5", monthly: "0")
            try await Self.use(client, tenant, try await world.resourceIDs(tenant, .payPerUse)[0], quantity: "3", count: 4)
            #expect(try await world.services.budgetSettlement.run(droppingUnbudgeted: false) == BudgetSettlement.Report())
            #expect(try await client.int("SELECT count(*) FROM budget_charges") == 4)
            #expect(try await world.services.budgetSettlement.run().dropped == 1)
            #expect(try await client.int("SELECT count(*) FROM budget_charges") == 0)
            #expect(try await Self.setBudget(world, tenant, amount: "10", policy: .notify).spent == "6")
        }
    }

    /// A budget set while 10 writers record usage counts every record once: those its count
    /// saw, and the charges of those it did not.
    @Test func aBudgetSetDuringUsageCountsEveryRecordOnce() async throws {
        try await withTestDatabase(maximumConnections: 12) { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 10, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "1", monthly: "0")
            let resources = try await world.resourceIDs(tenant, .payPerUse)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for resource in resources {
                    group.addTask {
                        for _ in 0..<20 {
                            _ = try await world.services.purchases.recordUsage(
                                customerID: tenant.customerID, resourceID: resource, quantity: 1, context: tenant.customer.context)
                        }
                    }
                }
                group.addTask {
                    // Once the writers are under way.
                    while try await client.int("SELECT count(*) FROM usage_records WHERE customer_id = $1", [tenant.customerID]) < 20 {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    try await Self.setBudget(world, tenant, amount: "1000", policy: .notify)
                }
                try await group.waitForAll()
            }
            _ = try await world.services.budgetSettlement.run()
            #expect(try await Self.budget(world, tenant).spent == "200")
            #expect(try await client.int("SELECT count(*) FROM budget_charges") == 0)
        }
    }

    // MARK: Alerts

    /// 20 writers record usage of one customer while two settlers run: each of 75, 90 and
    /// 100 % is announced exactly once.
    @Test func eachThresholdIsAlertedOnceUnderTwentyConcurrentWriters() async throws {
        try await withTestDatabase(maximumConnections: 12) { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 20, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "1", monthly: "0")
            try await Self.setBudget(world, tenant, amount: "100", policy: .notify)
            let resources = try await world.resourceIDs(tenant, .payPerUse)
            let settlement = world.services.budgetSettlement
            let settlers = SettlerFlag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for resource in resources {
                    group.addTask {
                        for _ in 0..<6 {
                            _ = try await world.services.purchases.recordUsage(
                                customerID: tenant.customerID, resourceID: resource, quantity: 1, context: tenant.customer.context)
                        }
                    }
                }
                for _ in 0..<2 {
                    group.addTask {
                        while !settlers.stopped { _ = try await settlement.run() }
                    }
                }
                // The writers first; then the settlers are told to stop.
                for _ in 0..<20 { try await group.next() }
                settlers.stop()
                try await group.waitForAll()
            }
            _ = try await settlement.run()
            let budget = try await Self.budget(world, tenant)
            #expect(budget.spent == "120")
            #expect(budget.thresholdsReached == [75, 90, 100])
            #expect(try await Self.alerts(client, tenant) == [75: 1, 90: 1, 100: 1])
            let payload = try await client.string("""
                SELECT data::text FROM outbox_events WHERE customer_id = $1 AND type = 'budget.threshold_reached' AND data->>'percent' = '100'
                """, [tenant.customerID])
            #expect(payload?.contains(#""amount": "100.00""#) == true, "\(payload ?? "")")
            // notify only: the customer is not restricted.
            #expect(try await Self.activeRestriction(client, tenant) == nil)
        }
    }

    // MARK: Exhaustion

    /// 30 trials: a settlement lands among 20 concurrent prepaid buys that exhaust the budget.
    /// The restriction is the budget's (actor system), and no order commits after it.
    @Test func noPurchaseCommitsAfterABudgetRestriction() async throws {
        try await withTestDatabase(maximumConnections: 8) { (_, client) async throws in
            try await RaceTests.requireCommitTimestamps(client)
            let world = try await World.build(client: client)
            try await Self.price(world, "rds.instance", usage: "0", monthly: "10")
            let first = try await world.tenant(payPerUse: 0, prepaid: 0)
            var trials = [first]
            for _ in 1..<30 { trials.append(try await world.customer(of: first, payPerUse: 0, prepaid: 0)) }
            var refused = 0
            for tenant in trials {
                try await Self.setBudget(world, tenant, amount: "25")
                let outcomes = await withTaskGroup(of: RaceTests.Outcome.self) { group in
                    for index in 0..<20 {
                        if index % 5 == 4 {
                            group.addTask { await RaceTests.Outcome { _ = try await world.services.budgetSettlement.settle(customerID: tenant.customerID, now: Date()) } }
                        }
                        group.addTask {
                            await RaceTests.Outcome {
                                _ = try await world.services.purchases.order(
                                    customerID: tenant.customerID, .buy(type: "rds.instance", billingMode: .prepaid, termMonths: 1, spec: nil),
                                    context: tenant.customer.context)
                            }
                        }
                    }
                    var outcomes: [RaceTests.Outcome] = []
                    for await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
                #expect(outcomes.allSatisfy { $0 == .done || $0 == .refused("purchase_restricted") }, "\(outcomes)")
                refused += outcomes.filter { $0 == .refused("purchase_restricted") }.count
                _ = try await world.services.budgetSettlement.settle(customerID: tenant.customerID, now: Date())
                #expect(try await Self.activeRestriction(client, tenant) == "budget system budget exhausted")
            }
            let commits = try await client.query("""
                SELECT count(*) FILTER (WHERE pg_xact_commit_timestamp(o.xmin) >= pg_xact_commit_timestamp(x.xmin)), count(*)
                FROM orders o JOIN restrictions x ON x.customer_id = o.customer_id
                """).single()
            #expect(try commits.decode(0, as: Int.self) == 0, "a purchase committed after its customer's budget restriction")
            #expect(try commits.decode(1, as: Int.self) >= 3 * 30)
            #expect(refused > 0, "the race was real: some buys met the restriction")
            try await assertInvariants(client)
        }
    }

    /// Exhausted → restricted by the budget (audited, outbox); raised above the spend → lifted
    /// by actor system; the freeze policy freezes pay-per-use resources like a freeze.
    @Test func raisingTheBudgetLiftsItsRestriction() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 2, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "2.5", monthly: "0")
            try await Self.setBudget(world, tenant, amount: "10", policy: .restrictPurchaseAndFreezeResources)
            let resource = try await world.resourceIDs(tenant, .payPerUse)[0]
            try await Self.use(client, tenant, resource, quantity: "4")
            let report = try await world.services.budgetSettlement.run()
            #expect(report.restricted == 1 && report.alerts == 3)
            #expect(try await Self.activeRestriction(client, tenant) == "budget system budget exhausted")
            let customer = try await world.services.customers.get(tenant.partner.principal, customerID: tenant.customerID)
            #expect(customer.status == .frozen)
            #expect(customer.activeRestriction?.origin == .budget)
            #expect(customer.activeRestriction?.appliedBy == ActorRef(kind: "system", id: nil))
            #expect(customer.budget == BudgetSummary(amount: "10.00", spent: "10", percentUsed: 100, onExhaustion: .restrictPurchaseAndFreezeResources))
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE customer_id = $1 AND state = 'frozen' AND frozen_reason = 'restriction'",
                [tenant.customerID]) == 2)
            #expect(try await client.string("""
                SELECT actor_kind || ' ' || (details->>'origin') FROM audit_events WHERE customer_id = $1 AND action = 'customer.restricted'
                """, [tenant.customerID]) == "system budget")
            #expect(try await client.string("SELECT agreement_version FROM restrictions WHERE customer_id = $1", [tenant.customerID])
                == (try await client.string("SELECT agreement_version FROM budgets WHERE customer_id = $1", [tenant.customerID])))
            // Raised above the spend: the budget's own restriction is lifted at once.
            let raised = try await Self.setBudget(world, tenant, amount: "20", policy: .restrictPurchaseAndFreezeResources)
            #expect(raised.thresholdsReached == [])
            #expect(try await Self.activeRestriction(client, tenant) == nil)
            #expect(try await client.string(
                "SELECT lifted_by_kind || ' ' || lift_reason FROM restrictions WHERE customer_id = $1", [tenant.customerID])
                == "system budget raised")
            #expect(try await client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.unrestricted' AND data->>'origin' = 'budget'",
                [tenant.customerID]) == 1)
            #expect(try await client.int("SELECT count(*) FROM resources WHERE customer_id = $1 AND state = 'active'", [tenant.customerID]) == 2)
            // Lowered to the spend again: restricted again by the setting itself.
            _ = try await Self.setBudget(world, tenant, amount: "10", policy: .restrictPurchaseAndFreezeResources)
            #expect(try await Self.activeRestriction(client, tenant) == "budget system budget exhausted")
            // Resending the same budget changes nothing.
            _ = try await Self.setBudget(world, tenant, amount: "10", policy: .restrictPurchaseAndFreezeResources)
            #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == 2)
            // Another restricting policy: its own type replaces the budget's restriction.
            _ = try await Self.setBudget(world, tenant, amount: "10", policy: .restrictPurchase)
            #expect(try await client.string(
                "SELECT (SELECT type FROM restrictions WHERE customer_id = $1 AND lifted_at IS NULL)", [tenant.customerID]) == "purchase")
            #expect(try await client.int("SELECT count(*) FROM resources WHERE customer_id = $1 AND state = 'active'", [tenant.customerID]) == 2)
            // Switched to notify only: the budget's restriction goes.
            _ = try await Self.setBudget(world, tenant, amount: "10", policy: .notify)
            #expect(try await Self.activeRestriction(client, tenant) == nil)
            #expect(try await client.string(
                "SELECT string_agg(lift_reason, ', ' ORDER BY lifted_at) FROM restrictions WHERE customer_id = $1", [tenant.customerID])
                == "budget raised, budget policy changed, budget policy notifies only")
            try await assertInvariants(client)
        }
    }

    /// A person's restriction is never lifted by a budget (raise, new period, removal), and
    /// a budget does not restrict over it. A budget's restriction a person lifts stays lifted
    /// until the next crossing.
    @Test func aPersonsRestrictionIsNeverTheBudgets() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "1", monthly: "0")
            let resource = try await world.resourceIDs(tenant, .payPerUse)[0]
            try await Self.setBudget(world, tenant, amount: "10")
            _ = try await world.freeze(tenant, type: .purchase)
            try await Self.use(client, tenant, resource, quantity: "11")
            let settled = try await world.services.budgetSettlement.run()
            #expect(settled.restricted == 0 && settled.alerts == 3)
            #expect(try await Self.activeRestriction(client, tenant) == "manual partner unpaid invoices")
            _ = try await Self.setBudget(world, tenant, amount: "50")
            _ = try await world.services.budgetSettlement.run(now: Self.nextMonth())
            _ = try await world.services.budgets.remove(customerID: tenant.customerID, verificationCode: nil, context: tenant.partner.context)
            #expect(try await Self.activeRestriction(client, tenant) == "manual partner unpaid invoices")

            // A budget's restriction lifted by a person stays lifted until the next crossing.
            _ = try await world.unfreeze(tenant)
            try await Self.setBudget(world, tenant, amount: "20")
            try await Self.use(client, tenant, resource, quantity: "10")
            _ = try await world.services.budgetSettlement.run()
            #expect(try await Self.activeRestriction(client, tenant) == "budget system budget exhausted")
            _ = try await world.unfreeze(tenant)
            try await Self.use(client, tenant, resource, quantity: "5")
            #expect(try await world.services.budgetSettlement.run().restricted == 0)
            #expect(try await Self.activeRestriction(client, tenant) == nil)
            // Raised, then crossed again: restricted again.
            try await Self.setBudget(world, tenant, amount: "30")
            try await Self.use(client, tenant, resource, quantity: "6")
            #expect(try await world.services.budgetSettlement.run().restricted == 1)
            #expect(try await Self.activeRestriction(client, tenant) == "budget system budget exhausted")
            #expect(try await Self.alerts(client, tenant) == [75: 2, 90: 3, 100: 3])
        }
    }

    /// 00:00 UTC on the 1st of the month after now.
    static func nextMonth(after date: Date = Date()) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
        return calendar.date(byAdding: .month, value: 1, to: start)!
    }

    /// A new month: spend starts at 0 (charges of the old month stay in it), every alert may
    /// be sent again, and the budget's restriction is lifted. A one-time budget never rolls.
    @Test func aNewMonthStartsAgainAndLiftsTheBudgetsRestriction() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            let once = try await world.customer(of: tenant, payPerUse: 1, prepaid: 0)
            let late = try await world.customer(of: tenant, payPerUse: 1, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "1", monthly: "0")
            try await Self.setBudget(world, tenant, amount: "10")
            try await Self.setBudget(world, once, amount: "10", period: .oneTime)
            try await Self.setBudget(world, late, amount: "10")
            let lateResource = try await world.resourceIDs(late, .payPerUse)[0]
            try await Self.use(client, late, lateResource, quantity: "7")
            for customer in [tenant, once] {
                try await Self.use(client, customer, try await world.resourceIDs(customer, .payPerUse)[0], quantity: "12")
            }
            _ = try await world.services.budgetSettlement.run()
            #expect(try await Self.activeRestriction(client, tenant) == "budget system budget exhausted")
            // A charge recorded this month but settled after the month turned stays in this month.
            try await Self.use(client, tenant, try await world.resourceIDs(tenant, .payPerUse)[0], quantity: "3")
            // The month's last charges of `late` (70 % → 100 %) are settled only after it ended.
            try await Self.use(client, late, lateResource, quantity: "3")
            let thisMonth = try await Self.budget(world, late).periodStart
            let next = Self.nextMonth()
            let report = try await world.services.budgetSettlement.run(now: next)
            #expect(report.lifted == 1)
            // They count in their own month: its 75, 90 and 100 % alerts, under its period.
            #expect(try await Self.alerts(client, late) == [75: 1, 90: 1, 100: 1])
            #expect(try await client.int("""
                SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'budget.threshold_reached'
                  AND (data->>'period_start')::timestamptz = $2
                """, [late.customerID, thisMonth]) == 3)
            let lateBudget = try await Self.budget(world, late)
            #expect(lateBudget.spent == "0" && lateBudget.periodStart == next)
            #expect(try await Self.activeRestriction(client, late) == nil)
            let budget = try await Self.budget(world, tenant)
            #expect(budget.periodStart == next)
            #expect(budget.spent == "0")
            #expect(budget.thresholdsReached == [])
            #expect(try await Self.activeRestriction(client, tenant) == nil)
            #expect(try await client.string(
                "SELECT lift_reason FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == "new budget period")
            // The one-time budget is still exhausted and restricted.
            let oneTime = try await Self.budget(world, once)
            #expect(oneTime.spent == "12" && oneTime.thresholdsReached == [75, 90, 100])
            #expect(try await Self.activeRestriction(client, once) == "budget system budget exhausted")
            // Run again in the new month: nothing more to do.
            #expect(try await world.services.budgetSettlement.run(now: next) == BudgetSettlement.Report())
        }
    }

    /// A customer whose settlement fails (here: its row held by a long transaction past the
    /// statement timeout) is counted and named; the others are settled in the same run.
    @Test func oneCustomersFailureDoesNotStopTheOthers() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let stuck = try await world.tenant(payPerUse: 1, prepaid: 0)
            let fine = try await world.customer(of: stuck, payPerUse: 1, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "1", monthly: "0")
            for customer in [stuck, fine] {
                try await Self.setBudget(world, customer, amount: "10", policy: .notify)
                try await Self.use(client, customer, try await world.resourceIDs(customer, .payPerUse)[0], quantity: "8")
            }
            let holder = try database.connect()
            defer { holder.close() }
            try holder.execute("BEGIN")
            try holder.execute("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE", [stuck.customerID])
            let impatient = try database.client(statementTimeout: .seconds(1))
            let report = try await world.services(on: impatient).budgetSettlement.run()
            await impatient.shutdown()
            try holder.execute("ROLLBACK")
            #expect(report.failed == 1 && report.customers == 1 && report.alerts == 1, "\(report)")
            #expect(report.failures.first?.hasPrefix(stuck.customerID.lowercasedString) == true)
            #expect(try await Self.budget(world, fine).spent == "8")
            #expect(try await Self.budget(world, stuck).spent == "0")
        }
    }

    // MARK: Who sets a budget

    /// The rules of a freeze: the partner holding the grant, else the distributor; suspension;
    /// the agreement for the freeze policy; the verification code when the setting is on;
    /// customers read their own budget and set none; another tenant's customer is not found.
    @Test func settingABudgetFollowsTheFreezeAuthority() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let granted = try await world.tenant(payPerUse: 0, prepaid: 0)
            let ungranted = try await world.tenant(partnerHoldsGrant: false, payPerUse: 0, prepaid: 0)
            let other = try await world.tenant(payPerUse: 0, prepaid: 0)
            func code(_ body: () async throws -> Void) async -> String? {
                do {
                    try await body()
                    return nil
                } catch let error as PartnerError { return error.code.rawValue } catch { return "\(error)" }
            }
            #expect(await code { try await Self.setBudget(world, granted, amount: "10", as: granted.distributor.principal) } == "permission_held_by_partner")
            #expect(await code { try await Self.setBudget(world, ungranted, amount: "10") } == "permission_not_granted")
            #expect(await code { try await Self.setBudget(world, granted, amount: "10", as: granted.customer.principal) } == "forbidden")
            #expect(await code { try await Self.setBudget(world, granted, amount: "10", as: other.partner.principal) } == "not_found")
            #expect(await code { _ = try await world.services.budgets.get(other.partner.principal, customerID: granted.customerID) } == "not_found")
            #expect(await code { _ = try await world.services.budgets.get(granted.customer.principal, customerID: granted.customerID) } == "not_found")
            #expect(await code {
                try await Self.setBudget(world, granted, amount: "10", policy: .restrictPurchaseAndFreezeResources, agreement: false)
            } == "agreement_required")
            for amount in ["0", "0.00", "-1", "1e3", "12.345", "", " 12", "12.", ".5", "123456789012345"] {
                #expect(await code { try await Self.setBudget(world, granted, amount: amount) } == "validation_failed", "\(amount)")
            }
            #expect(try await client.int("SELECT count(*) FROM budgets") == 0)
            // The distributor sets it for a partner without the grant; the customer reads it.
            try await Self.setBudget(world, ungranted, amount: "10", as: ungranted.distributor.principal)
            let own = try await world.services.budgets.get(ungranted.customer.principal, customerID: ungranted.customerID)
            #expect(own.amount == "10.00" && own.setBy == ActorRef(kind: "distributor", id: ungranted.distributorID.uuid))
            #expect(await code {
                _ = try await world.services.budgets.remove(customerID: ungranted.customerID, verificationCode: nil, context: ungranted.customer.context)
            } == "forbidden")
            // Suspended: no change.
            try await world.suspend(partner: granted)
            #expect(await code { try await Self.setBudget(world, granted, amount: "10") } == "actor_suspended")
            // The verification-code setting asks for a code of purpose budget.
            try await world.requireCodes(for: other.partner.principal)
            #expect(await code { try await Self.setBudget(world, other, amount: "10") } == "verification_code_required")
            let freezeCode = try #require(try await world.services.verificationCodes.issue(for: other.partner.principal, purpose: .freeze).code)
            #expect(await code { try await Self.setBudget(world, other, amount: "10", code: freezeCode) } == "verification_code_invalid")
            let budgetCode = try #require(try await world.services.verificationCodes.issue(for: other.partner.principal, purpose: .budget).code)
            #expect(await code { try await Self.setBudget(world, other, amount: "10", code: budgetCode) } == nil)
            #expect(try await client.string(
                "SELECT actor_kind || ' ' || (details->>'amount') FROM audit_events WHERE customer_id = $1 AND action = 'budget.set'",
                [other.customerID]) == "partner 10")
        }
    }

    /// A budget set by a partner that has since lost its grant alerts but does not restrict.
    @Test func aSetterWithoutAuthorityOnlyAlerts() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            try await Self.price(world, "ecs.instance", usage: "1", monthly: "0")
            try await Self.setBudget(world, tenant, amount: "5")
            _ = try await world.services.grants.revoke(partnerID: tenant.partnerID, context: tenant.distributor.context)
            try await Self.use(client, tenant, try await world.resourceIDs(tenant, .payPerUse)[0], quantity: "6")
            let report = try await world.services.budgetSettlement.run()
            #expect(report.skipped == 1 && report.restricted == 0 && report.alerts == 3)
            #expect(try await Self.activeRestriction(client, tenant) == nil)
            #expect(try await client.string(
                "SELECT data->>'reason' FROM outbox_events WHERE customer_id = $1 AND type = 'budget.restriction_skipped'",
                [tenant.customerID]) == "permission_not_granted")
        }
    }

    @Test func onlyTheOperatorPricesAndPricesAreDecimalStrings() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            await #expect(throws: PartnerError.self) {
                _ = try await world.services.prices.set(resourceType: "ecs.instance", usageUnitPrice: "1", monthlyPrice: "1", context: tenant.partner.context)
            }
            await #expect(throws: PartnerError.self) {
                _ = try await world.services.prices.set(resourceType: "ecs.instance", usageUnitPrice: "0.0000001", monthlyPrice: "1", context: world.operatorContext)
            }
            let price = try await world.services.prices.set(
                resourceType: "ecs.instance", usageUnitPrice: "0.000001", monthlyPrice: "99999999999999.5", context: world.operatorContext)
            #expect(price.usageUnitPrice == "0.000001" && price.monthlyPrice == "99999999999999.500000")
            #expect(try await world.services.prices.list().map(\.resourceType) == ["ecs.instance"])
            #expect(try await client.int("SELECT count(*) FROM audit_events WHERE action = 'price.set'") == 1)
        }
    }
}

/// A stop flag the settler tasks poll.
final class SettlerFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var stopped: Bool { lock.withLock { value } }
    func stop() { lock.withLock { value = true } }
}
