import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Purchase gate" and invariant 2: buy, renew and change go through one gate that
/// refuses a restricted customer (`purchase_restricted`); renewing is for prepaid resources
/// only; a frozen or released resource cannot be used.
@Suite("Purchase gate", .serialized)
struct PurchaseGateTests {
    enum Action: String, CaseIterable, Sendable { case buyPayPerUse, buyPrepaid, renew, change }

    static func order(_ action: Action, _ world: World, _ tenant: Tenant, as principal: Principal? = nil) async throws -> OrderResult {
        let request: OrderRequest
        switch action {
        case .buyPayPerUse: request = .buy(type: "ecs.instance", billingMode: .payPerUse, termMonths: nil, spec: nil)
        case .buyPrepaid: request = .buy(type: "rds.instance", billingMode: .prepaid, termMonths: 12, spec: nil)
        case .renew: request = .renew(resourceID: try await world.resourceIDs(tenant, .prepaid)[0], termMonths: 1)
        case .change: request = .change(resourceID: try await world.resourceIDs(tenant, .prepaid)[0], spec: .object(["cpu": .number(4)]))
        }
        return try await world.services.purchases.order(
            customerID: tenant.customerID, request, context: (principal ?? tenant.customer.principal).context)
    }

    @Test(arguments: Action.allCases)
    func anUnrestrictedCustomerOrders(action: Action) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let before = try await client.query(
                "SELECT expires_at::text, spec::text FROM resources WHERE customer_id = $1 AND billing_mode = 'prepaid' ORDER BY id LIMIT 1",
                [tenant.customerID]).single()
            let result = try await Self.order(action, world, tenant)
            let order = try await client.query(
                "SELECT action, resource_id FROM orders WHERE customer_id = $1 AND id = $2", [tenant.customerID, result.orderId]).single()
            #expect(try order.decode(1, as: ResourceID.self) == result.resourceId)
            let resource = try await client.query(
                "SELECT billing_mode, state, expires_at::text, spec::text, (SELECT count(*) FROM resource_data d WHERE d.customer_id = r.customer_id AND d.resource_id = r.id) FROM resources r WHERE customer_id = $1 AND id = $2",
                [tenant.customerID, result.resourceId]).single()
            #expect(try resource.decode(1, as: String.self) == "active")
            switch action {
            case .buyPayPerUse, .buyPrepaid:
                #expect(try order.decode(0, as: String.self) == "buy")
                #expect(try resource.decode(0, as: String.self) == (action == .buyPrepaid ? "prepaid" : "pay_per_use"))
                #expect(try resource.decode(4, as: Int.self) == 1)
                #expect(try await client.int("SELECT count(*) FROM resources WHERE customer_id = $1", [tenant.customerID]) == 6)
            case .renew:
                #expect(try order.decode(0, as: String.self) == "renew")
                let renewed = try await client.int(
                    "SELECT count(*) FROM resources WHERE customer_id = $1 AND id = $2 AND expires_at = $3::timestamptz + interval '1 month'",
                    [tenant.customerID, result.resourceId, try before.decode(0, as: String.self)])
                #expect(renewed == 1)
            case .change:
                #expect(try order.decode(0, as: String.self) == "change")
                #expect(try resource.decode(3, as: String.self) == #"{"cpu": 4}"#)
                #expect(try before.decode(1, as: String.self) == "{}")
            }
            try await assertInvariants(client)
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var type: RestrictionType
        var action: Action
        var testDescription: String { "\(action.rawValue) under \(type.rawValue)" }
    }

    static let restrictedCases = RestrictionType.allCases.flatMap { type in Action.allCases.map { Case(type: type, action: $0) } }

    @Test(arguments: restrictedCases)
    func aRestrictedCustomerCannotBuyRenewOrChange(_ testCase: Case) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant, type: testCase.type)
            try await expectRefusal(.purchaseRestricted, client) { try await Self.order(testCase.action, world, tenant) }
            #expect(try await client.int("SELECT count(*) FROM orders") == 0)
            // Lifted, the same order goes through.
            _ = try await world.unfreeze(tenant)
            _ = try await Self.order(testCase.action, world, tenant)
            #expect(try await client.int("SELECT count(*) FROM orders") == 1)
            try await assertInvariants(client)
        }
    }

    /// A renewal runs on from the old expiry, also once it has passed (DESIGN §9: the grace
    /// period used is paid for). The old expiry is bound from the locked row (Citus refuses
    /// the same arithmetic over the column in SET), so both are pinned to the microsecond.
    @Test func aRenewalRunsOnFromTheOldExpiry() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 2)
            let prepaid = try await world.resourceIDs(tenant, .prepaid)
            try await client.query("UPDATE resources SET expires_at = now() + interval '40 days' WHERE id = $1", [prepaid[0]])
            try await client.query("UPDATE resources SET expires_at = now() - interval '40 days' WHERE id = $1", [prepaid[1]])
            let ahead = try await client.query("SELECT expires_at::text FROM resources WHERE id = $1", [prepaid[0]])
                .single().decode(0, as: String.self)
            let passed = try await client.query("SELECT expires_at::text FROM resources WHERE id = $1", [prepaid[1]])
                .single().decode(0, as: String.self)
            for id in prepaid {
                _ = try await world.services.purchases.order(
                    customerID: tenant.customerID, .renew(resourceID: id, termMonths: 2), context: tenant.customer.context)
            }
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE id = $1 AND expires_at = $2::timestamptz + interval '2 months'",
                [prepaid[0], ahead]) == 1)
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE id = $1 AND expires_at = $2::timestamptz + interval '2 months'",
                [prepaid[1], passed]) == 1)
            try await assertInvariants(client)
        }
    }

    @Test func aPayPerUseResourceIsNotRenewed() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let payPerUse = try await world.resourceIDs(tenant, .payPerUse)[0]
            try await expectRefusal(.resourceNotChangeable, client) {
                try await world.services.purchases.order(
                    customerID: tenant.customerID, .renew(resourceID: payPerUse, termMonths: 1), context: tenant.customer.context)
            }
        }
    }

    @Test func onlyTheCustomerOrdersForItself() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let other = try await world.tenant()
            for principal in [tenant.partner.principal, tenant.distributor.principal, world.operatorContext.principal] {
                try await expectRefusal(.forbidden, client) { try await Self.order(.buyPayPerUse, world, tenant, as: principal) }
            }
            try await expectRefusal(.notFound, client) { try await Self.order(.buyPayPerUse, world, tenant, as: other.customer.principal) }
            // Another customer's resource under one's own id is not found either.
            let foreignResource = try await world.resourceIDs(other, .prepaid)[0]
            try await expectRefusal(.notFound, client) {
                try await world.services.purchases.order(
                    customerID: tenant.customerID, .renew(resourceID: foreignResource, termMonths: 1), context: tenant.customer.context)
            }
            try await expectRefusal(.notFound, client) {
                try await world.services.purchases.recordUsage(
                    customerID: tenant.customerID, resourceID: foreignResource, quantity: 1, context: tenant.customer.context)
            }
        }
    }

    @Test func badOrdersAreValidationFailures() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let prepaid = try await world.resourceIDs(tenant, .prepaid)[0]
            let requests: [OrderRequest] = [
                .buy(type: "", billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: "no spaces", billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: String(repeating: "e\u{301}", count: 40), billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: String(repeating: "a", count: 65), billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: " ecs", billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: "ecs\n", billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: "écs", billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: "ecs+gpu", billingMode: .payPerUse, termMonths: nil, spec: nil),
                .buy(type: "ecs", billingMode: .payPerUse, termMonths: 12, spec: nil),
                .buy(type: "ecs", billingMode: .prepaid, termMonths: 61, spec: nil),
                .buy(type: "ecs", billingMode: .payPerUse, termMonths: nil, spec: .array([])),
                .renew(resourceID: prepaid, termMonths: 0),
                .change(resourceID: prepaid, spec: .string("big")),
                // jsonb cannot hold NUL (\u0000), in a value or in a key.
                .change(resourceID: prepaid, spec: .object(["note": .array([.string("a\u{0}b")])])),
                .buy(type: "ecs", billingMode: .payPerUse, termMonths: nil, spec: .object(["k\u{0}": .null])),
            ]
            for request in requests {
                try await expectRefusal(.validationFailed, client) {
                    try await world.services.purchases.order(customerID: tenant.customerID, request, context: tenant.customer.context)
                }
            }
            for quantity in [0, -1, Double.nan, .infinity] {
                try await expectRefusal(.validationFailed, client) {
                    try await world.services.purchases.recordUsage(
                        customerID: tenant.customerID, resourceID: prepaid, quantity: quantity, context: tenant.customer.context)
                }
            }
        }
    }

    @Test func aTypeIsLettersDigitsAndFourMarks() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            for type in ["ecs.g7/large_2-x", String(repeating: "Z", count: 64), "9"] {
                let result = try await world.services.purchases.order(
                    customerID: tenant.customerID, .buy(type: type, billingMode: .payPerUse, termMonths: nil, spec: nil),
                    context: tenant.customer.context)
                #expect(result.resource.type == type)
            }
        }
    }

    /// The value rules hold in the database itself, not only in the service: writes that
    /// bypass it are refused with check_violation (domains for single values, table CHECKs
    /// for the rules between a resource's columns).
    @Test func theDatabaseRefusesValuesOutsideTheRules() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let resource = try await world.resourceIDs(tenant, .payPerUse)[0]
            let statements: [(String, [(any PostgresEncodable)?])] = [
                ("INSERT INTO resources (customer_id, type, billing_mode) VALUES ($1, $2, 'pay_per_use')", [tenant.customerID, " "]),
                ("INSERT INTO resources (customer_id, type, billing_mode) VALUES ($1, $2, 'pay_per_use')",
                 [tenant.customerID, String(repeating: "a", count: 65)]),
                ("INSERT INTO resources (customer_id, type, billing_mode) VALUES ($1, 'ecs', $2)", [tenant.customerID, "monthly"]),
                ("UPDATE resources SET state = $3 WHERE customer_id = $1 AND id = $2", [tenant.customerID, resource, "deleted"]),
                // A frozen resource needs its freeze time, restriction and deadline.
                ("UPDATE resources SET state = 'frozen' WHERE customer_id = $1 AND id = $2", [tenant.customerID, resource]),
                ("UPDATE resource_data SET size_bytes = -1 WHERE customer_id = $1 AND resource_id = $2", [tenant.customerID, resource]),
                ("INSERT INTO orders (customer_id, action, resource_id) VALUES ($1, $3, $2)", [tenant.customerID, resource, "refund"]),
                ("INSERT INTO orders (customer_id, action, resource_id, term_months) VALUES ($1, 'renew', $2, $3)",
                 [tenant.customerID, resource, 61]),
                ("INSERT INTO audit_events (actor_kind, action, target_kind, tenant_id) VALUES ($1, 'x', 'y', gen_random_uuid())", ["robot"]),
            ]
            for (sql, parameters) in statements {
                do {
                    try await client.query(sql, parameters)
                    Issue.record("accepted: \(sql)")
                } catch let error as PostgresError {
                    #expect(error.sqlState == PostgresError.SQLState.checkViolation, "\(sql): \(error)")
                }
            }
            try await assertInvariants(client)
        }
    }

    /// `purchase` leaves every resource usable; `purchase_and_resources` freezes pay-per-use
    /// resources (`resource_frozen`) and leaves prepaid ones usable.
    @Test func usageFollowsTheResourceState() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let payPerUse = try await world.resourceIDs(tenant, .payPerUse)[0]
            let prepaid = try await world.resourceIDs(tenant, .prepaid)[0]
            func use(_ resource: ResourceID) async throws -> UsageResult {
                try await world.services.purchases.recordUsage(
                    customerID: tenant.customerID, resourceID: resource, quantity: 1.5, context: tenant.customer.context)
            }
            _ = try await world.freeze(tenant, type: .purchase)
            #expect(try await use(payPerUse).accepted)
            #expect(try await use(prepaid).accepted)
            _ = try await world.unfreeze(tenant)
            _ = try await world.freeze(tenant)
            try await expectRefusal(.resourceFrozen, client) { try await use(payPerUse) }
            #expect(try await use(prepaid).accepted)
            #expect(try await client.int("SELECT count(*) FROM usage_records WHERE customer_id = $1", [tenant.customerID]) == 3)
            #expect(try await client.int(
                "SELECT count(*) FROM usage_records WHERE resource_id = $1 AND quantity = 1.5", [payPerUse]) == 1)
        }
    }

    /// A released resource is gone for good: usage is `resource_released`, and so is
    /// changing it once the customer is unrestricted again.
    @Test func aReleasedResourceCannotBeUsedOrChanged() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 0, payPerUse: 1, prepaid: 0)
            let resource = try await world.resourceIDs(tenant, .payPerUse)[0]
            _ = try await world.freeze(tenant)
            let report = try await RetentionSweep(client: client).run(.init(batchSize: 10))
            #expect(report.released == 1)
            try await expectRefusal(.resourceReleased, client) {
                try await world.services.purchases.recordUsage(
                    customerID: tenant.customerID, resourceID: resource, quantity: 1, context: tenant.customer.context)
            }
            _ = try await world.unfreeze(tenant)
            try await expectRefusal(.resourceReleased, client) {
                try await world.services.purchases.order(
                    customerID: tenant.customerID, .change(resourceID: resource, spec: .object(["a": .number(1)])),
                    context: tenant.customer.context)
            }
            #expect(try await client.states(of: tenant, .payPerUse) == ["released": 1])
            try await assertInvariants(client)
        }
    }

    /// Provisioning is not a purchase, but nothing is added to a frozen customer.
    @Test func provisioningIntoAFrozenCustomerIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant)
            try await expectRefusal(.purchaseRestricted, client) { try await world.provision(tenant, .payPerUse, count: 5) }
            try await assertInvariants(client)
        }
    }
}
