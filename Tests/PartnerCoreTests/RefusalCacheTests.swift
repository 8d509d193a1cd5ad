import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// Refusals the gate remembers for a moment (`RefusalCache`): they are only ever refusals,
/// an unfreeze on the same instance is seen by the very next purchase and usage report, and
/// on another instance a remembered refusal lasts at most the cache's lifetime.
@Suite("Refusal cache", .serialized)
struct RefusalCacheTests {
    static let buy = OrderRequest.buy(type: "ecs.instance", billingMode: .payPerUse, termMonths: nil, spec: nil)

    @Test func anUnfreezeIsSeenByTheNextPurchaseAndUsageReport() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            let resource = try await world.resourceIDs(tenant, .payPerUse)[0]
            // A lifetime no busy test machine outlasts, so what is remembered is still there
            // when the unfreeze comes; gate and unfreeze share it, as in one server.
            let services = PartnerServices(client: client, codeDelivery: .response, refusalLifetime: .seconds(60))
            let gate = services.purchases
            _ = try await world.freeze(tenant)
            for _ in 0..<3 {
                try await expectRefusal(.purchaseRestricted, client) {
                    try await gate.order(customerID: tenant.customerID, Self.buy, context: tenant.customer.context)
                }
                try await expectRefusal(.resourceFrozen, client) {
                    try await gate.recordUsage(
                        customerID: tenant.customerID, resourceID: resource, quantity: 1, context: tenant.customer.context)
                }
            }
            #expect(services.refusals.refusal(customerID: tenant.customerID).0 == .purchases)
            _ = try await services.restrictions.unfreeze(
                customerID: tenant.customerID, UnfreezeRequest(type: nil, reason: "invoices paid", verificationCode: nil),
                context: tenant.partner.context)
            #expect(services.refusals.refusal(customerID: tenant.customerID).0 == nil)
            let bought = try await gate.order(customerID: tenant.customerID, Self.buy, context: tenant.customer.context)
            #expect(try await client.int("SELECT count(*) FROM resources WHERE id = $1", [bought.resourceId]) == 1)
            #expect(try await gate.recordUsage(
                customerID: tenant.customerID, resourceID: resource, quantity: 1, context: tenant.customer.context).accepted)
            try await assertInvariants(client)
        }
    }

    /// Another server's cache is not told of the unfreeze: its remembered refusal ends with
    /// its lifetime, and the purchase after that goes through.
    @Test func anotherInstanceRefusesAtMostForTheCacheLifetime() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            let other = try database.client(maximumConnections: 2)
            let otherServer = PartnerServices(client: other, codeDelivery: .response, refusalLifetime: .seconds(5))
            _ = try await world.freeze(tenant)
            try await expectRefusal(.purchaseRestricted, client) {
                try await otherServer.purchases.order(customerID: tenant.customerID, Self.buy, context: tenant.customer.context)
            }
            _ = try await world.unfreeze(tenant)
            let unfrozen = ContinuousClock.now
            var refusedFor: Duration = .zero
            while true {
                do {
                    _ = try await otherServer.purchases.order(customerID: tenant.customerID, Self.buy, context: tenant.customer.context)
                    break
                } catch let error as PartnerError where error.code == .purchaseRestricted {
                    refusedFor = ContinuousClock.now - unfrozen
                    #expect(refusedFor < .seconds(5))
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            // It did refuse from memory after the unfreeze, and not for longer than its lifetime.
            #expect(refusedFor > .zero && refusedFor < .seconds(5))
            #expect(try await client.int("SELECT count(*) FROM resources WHERE customer_id = $1", [tenant.customerID]) == 1)
            await other.shutdown()
        }
    }

    /// The sweep, another process, cannot tell the cache; but it releases a resource only
    /// once its retention has run out, and a frozen resource's refusal is not kept past that.
    @Test func aFrozenResourceIsNotRememberedPastItsRetention() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(retentionSeconds: 0, payPerUse: 1, prepaid: 0)
            let resource = try await world.resourceIDs(tenant, .payPerUse)[0]
            // A lifetime no busy test machine outlasts: only the retention can cut it short.
            let services = PartnerServices(client: client, codeDelivery: .response, refusalLifetime: .seconds(60))
            let gate = services.purchases
            func use() async throws -> UsageResult {
                try await gate.recordUsage(customerID: tenant.customerID, resourceID: resource, quantity: 1, context: tenant.customer.context)
            }
            _ = try await world.freeze(tenant)
            try await expectRefusal(.resourceFrozen, client) { try await use() }
            #expect(services.refusals.refusal(customerID: tenant.customerID, resourceID: resource).0 == nil)
            #expect(try await RetentionSweep(client: client).run(.init(batchSize: 10)).released == 1)
            try await expectRefusal(.resourceReleased, client) { try await use() }
            #expect(services.refusals.refusal(customerID: tenant.customerID, resourceID: resource).0 == .usage(.released))
        }
    }

    /// A refusal read before an unfreeze committed, and answered after it, is not kept.
    @Test func aRefusalThatRacedAnUnfreezeIsNotRemembered() {
        let cache = RefusalCache(lifetime: .seconds(60))
        let customer = CustomerID.random()
        let (before, ticket) = cache.refusal(customerID: customer)
        #expect(before == nil)
        cache.forget(customerIDs: [customer])
        cache.remember(.purchases, customerID: customer, ticket: ticket)
        #expect(cache.refusal(customerID: customer).0 == nil)

        let (_, fresh) = cache.refusal(customerID: customer)
        cache.remember(.purchases, customerID: customer, ticket: fresh)
        #expect(cache.refusal(customerID: customer).0 == .purchases)
        #expect(cache.refusal(customerID: customer, resourceID: .random()).0 == nil)
    }

    @Test func aRefusalExpiresWithItsLifetimeOrValidityAndAZeroLifetimeKeepsNothing() async throws {
        let cache = RefusalCache(lifetime: .milliseconds(50))
        let customer = CustomerID.random()
        let resource = ResourceID.random()
        cache.remember(.usage(.frozen), customerID: customer, resourceID: resource, ticket: cache.refusal(customerID: customer).1)
        #expect(cache.refusal(customerID: customer, resourceID: resource).0 == .usage(.frozen))
        try await Task.sleep(for: .milliseconds(80))
        #expect(cache.refusal(customerID: customer, resourceID: resource).0 == nil)

        let (_, ticket) = cache.refusal(customerID: customer)
        cache.remember(.purchases, customerID: customer, ticket: ticket, validUntil: Date().addingTimeInterval(0.05))
        #expect(cache.refusal(customerID: customer).0 == .purchases)
        try await Task.sleep(for: .milliseconds(80))
        #expect(cache.refusal(customerID: customer).0 == nil)
        cache.remember(.purchases, customerID: customer, ticket: ticket, validUntil: Date().addingTimeInterval(-1))
        #expect(cache.refusal(customerID: customer).0 == nil)

        let off = RefusalCache(lifetime: .zero)
        off.remember(.purchases, customerID: customer, ticket: off.refusal(customerID: customer).1)
        #expect(off.refusal(customerID: customer).0 == nil)
    }
}
