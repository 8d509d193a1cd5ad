import Foundation
import PartnerCore
import Postgres

/// A principal made for a test: its id and an API key for it.
struct Actor: Sendable {
    let id: UUID
    let token: String
}

/// A customer made for a test, with its key and its resources by billing mode.
struct TestCustomer: Sendable {
    let id: UUID
    let token: String
    let payPerUseIDs: [UUID]
    let prepaidIDs: [UUID]
}

/// One distributor's slice of the world: the distributor, one partner (holding the freeze
/// permission when `granted`) and one customer of that partner with resources.
struct Tenant: Sendable {
    let distributor: Actor
    let partner: Actor
    let customer: TestCustomer
}

/// Builders over the services (as the operator), so each test sets up only what it needs.
extension API {
    func makeDistributor(retentionSeconds: Int? = nil, name: String = "Distributor") async throws -> Actor {
        let distributor = try await services.provisioning.createDistributor(
            name: name, retentionSeconds: retentionSeconds, context: operatorContext)
        return Actor(id: distributor.id, token: try await key(.distributor, distributor.id))
    }

    func makePartner(of distributor: Actor, granted: Bool, name: String = "Partner") async throws -> Actor {
        let partner = try await services.provisioning.createPartner(distributorID: distributor.id, name: name, context: operatorContext)
        if granted { try await grant(partner.id, by: distributor) }
        return Actor(id: partner.id, token: try await key(.partner, partner.id))
    }

    func makeCustomer(of partner: Actor, payPerUse: Int = 3, prepaid: Int = 2, name: String = "Customer") async throws -> TestCustomer {
        let id = try await services.provisioning.createCustomer(partnerID: partner.id, name: name, context: operatorContext).id
        if payPerUse > 0 {
            _ = try await services.provisioning.createResources(
                customerID: id, ResourceProvisioning(type: "ecs.instance", billingMode: .payPerUse, dataBytes: 1024, count: payPerUse),
                context: operatorContext)
        }
        if prepaid > 0 {
            _ = try await services.provisioning.createResources(
                customerID: id, ResourceProvisioning(type: "rds.instance", billingMode: .prepaid, count: prepaid),
                context: operatorContext)
        }
        return TestCustomer(
            id: id, token: try await key(.customer, id),
            payPerUseIDs: try await resourceIDs(of: id, billingMode: .payPerUse),
            prepaidIDs: try await resourceIDs(of: id, billingMode: .prepaid))
    }

    /// A distributor with one partner and one customer (3 pay-per-use, 2 prepaid resources).
    func makeTenant(granted: Bool = true, retentionSeconds: Int? = nil) async throws -> Tenant {
        let distributor = try await makeDistributor(retentionSeconds: retentionSeconds)
        let partner = try await makePartner(of: distributor, granted: granted)
        return Tenant(distributor: distributor, partner: partner, customer: try await makeCustomer(of: partner))
    }

    func key(_ kind: Principal.Kind, _ id: UUID) async throws -> String {
        try await services.apiKeys.create(kind: kind, principalID: id, context: operatorContext).token
    }

    func grant(_ partnerID: UUID, by distributor: Actor) async throws {
        _ = try await services.grants.grant(
            partnerID: partnerID,
            context: ChangeContext(principal: Principal(kind: .distributor, id: distributor.id), requestID: "test-setup"))
    }

    func resourceIDs(of customerID: UUID, billingMode: BillingMode) async throws -> [UUID] {
        try await client.query(
            "SELECT id FROM resources WHERE customer_id = $1 AND billing_mode = $2 ORDER BY id", [customerID, billingMode.rawValue]
        ).map { try $0.decode(0) }
    }

    /// Freezes a customer through the service (set-up, not under test).
    func freeze(_ customerID: UUID, by principal: Principal, type: RestrictionType = .purchaseAndResources) async throws {
        _ = try await services.restrictions.freeze(
            customerID: customerID, FreezeRequest(type: type, reason: "set-up", agreementAccepted: true),
            context: ChangeContext(principal: principal, requestID: "test-setup"))
    }

    /// Releases the given frozen resources as the retention sweep would once their retention
    /// has passed: moves their deadline into the past, then runs the sweep. Moving the
    /// deadline stands in for time passing, and by then the server's refusal cache would have
    /// let go of them (it keeps a frozen resource's refusal no longer than its retention), so
    /// their customers are forgotten there too.
    func release(_ resourceIDs: [UUID]) async throws {
        var customers: Set<UUID> = []
        for id in resourceIDs {
            let rows = try await client.query(
                "UPDATE resources SET retention_until = now() - interval '1 second', frozen_at = now() - interval '2 seconds' WHERE id = $1 AND state = 'frozen' RETURNING customer_id",
                [id])
            for row in rows { customers.insert(try row.decode(0)) }
        }
        services.refusals.forget(customerIDs: customers)
        _ = try await RetentionSweep(client: client).run(.init(batchSize: 100))
    }

    func customerStatus(_ customerID: UUID) async throws -> String? {
        try await text("SELECT status FROM customers WHERE id = $1", [customerID])
    }

    func resourceStates(_ customerID: UUID) async throws -> [String: Int] {
        var states: [String: Int] = [:]
        for row in try await client.query(
            "SELECT billing_mode || '.' || state, count(*) FROM resources WHERE customer_id = $1 GROUP BY 1", [customerID])
        {
            states[try row.decode(0)] = try row.decode(1)
        }
        return states
    }
}

extension Tenant {
    var distributorPrincipal: Principal { Principal(kind: .distributor, id: distributor.id) }
    var partnerPrincipal: Principal { Principal(kind: .partner, id: partner.id, distributorID: distributor.id) }
}
