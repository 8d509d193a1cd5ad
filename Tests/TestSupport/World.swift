import Foundation
import PartnerCore
import Postgres

/// Tenants, resources and API keys built through the real services, with an operator's
/// context, so a test sets up exactly what production would and then acts as one of the
/// principals: through a service (`tenant.partner.context`) or over HTTP
/// (`tenant.partner.token`). The one world of both test targets.
///
/// Verification codes are delivered in the answer (`response`) so tests can read them; the
/// resend interval is 0 unless a test asks for another one.
public struct World: Sendable {
    public let client: PostgresClient
    public let services: PartnerServices
    public let operatorContext: ChangeContext

    public static func build(client: PostgresClient, codeResendInterval: TimeInterval = 0) async throws -> World {
        let services = PartnerServices(client: client, codeDelivery: .response, codeResendInterval: codeResendInterval)
        let key = try await services.apiKeys.createOperator(name: "Test operator")
        return World(client: client, services: services, operatorID: key.principalId)
    }

    /// A world over given services (the API tests' own, the router's, so that its caches see
    /// what is built here), acting as the operator `operatorID`; `client` reads and writes
    /// around the services (an admin's, in the API tests).
    public init(client: PostgresClient, services: PartnerServices, operatorID: UUID) {
        self.client = client
        self.services = services
        self.operatorContext = ChangeContext(principal: Principal(kind: .operator, id: operatorID), requestID: "test-setup")
    }

    /// Services over another client of the same database (another pool, as a second server
    /// or a second sweeper would have).
    public func services(on client: PostgresClient, codeResendInterval: TimeInterval = 0) -> PartnerServices {
        PartnerServices(client: client, codeDelivery: .response, codeResendInterval: codeResendInterval)
    }

    // MARK: Tenants

    /// A distributor with one partner and one customer. `payPerUse` and `prepaid` resources
    /// are provisioned with a data row of `dataBytes` each.
    public func tenant(
        retentionSeconds: Int? = nil, partnerHoldsGrant: Bool = true, payPerUse: Int = 3, prepaid: Int = 2,
        dataBytes: Int = 1024
    ) async throws -> Tenant {
        try await tenant(
            under: try await distributor(retentionSeconds: retentionSeconds), partnerHoldsGrant: partnerHoldsGrant,
            payPerUse: payPerUse, prepaid: prepaid, dataBytes: dataBytes)
    }

    /// A new partner (and customer) under an existing distributor.
    public func tenant(
        under distributor: TestPrincipal<Distributor>, partnerHoldsGrant: Bool = true, payPerUse: Int = 3, prepaid: Int = 2,
        dataBytes: Int = 1024
    ) async throws -> Tenant {
        let partner = try await partner(of: distributor, granted: partnerHoldsGrant)
        return try await customer(of: partner, under: distributor, payPerUse: payPerUse, prepaid: prepaid, dataBytes: dataBytes)
    }

    /// Another customer of the same partner.
    public func customer(
        of tenant: Tenant, payPerUse: Int = 3, prepaid: Int = 2, dataBytes: Int = 1024, name: String? = nil
    ) async throws -> Tenant {
        try await customer(
            of: tenant.partner, under: tenant.distributor, payPerUse: payPerUse, prepaid: prepaid, dataBytes: dataBytes, name: name)
    }

    /// A distributor alone, with its key.
    public func distributor(retentionSeconds: Int? = nil, name: String? = nil) async throws -> TestPrincipal<Distributor> {
        let distributor = try await services.provisioning.createDistributor(
            name: name ?? "Distributor \(Self.suffix())", retentionSeconds: retentionSeconds, context: operatorContext)
        return try await principal(distributor.id, .distributor(distributor.id))
    }

    /// A partner of `distributor`, holding the freeze permission when `granted`, with its key.
    public func partner(
        of distributor: TestPrincipal<Distributor>, granted: Bool, name: String? = nil
    ) async throws -> TestPrincipal<Partner> {
        let partner = try await services.provisioning.createPartner(
            distributorID: distributor.id, name: name ?? "Partner \(Self.suffix())", context: operatorContext)
        if granted {
            _ = try await services.grants.grant(partnerID: partner.id, context: distributor.context)
        }
        return try await principal(partner.id, .partner(partner.id, of: distributor.id))
    }

    /// A customer of `partner` under `distributor`, with its key and its resources.
    public func customer(
        of partner: TestPrincipal<Partner>, under distributor: TestPrincipal<Distributor>, payPerUse: Int = 3, prepaid: Int = 2,
        dataBytes: Int = 1024, name: String? = nil
    ) async throws -> Tenant {
        let customerID = try await services.provisioning.createCustomer(
            partnerID: partner.id, name: name ?? "Customer \(Self.suffix())", context: operatorContext).id
        let customer = try await principal(customerID, .customer(customerID, of: partner.id, under: distributor.id))
        func made(_ billingMode: BillingMode, _ count: Int) async throws -> [ResourceID] {
            guard count > 0 else { return [] }
            try await provision(customerID, billingMode, count: count, dataBytes: dataBytes)
            return try await resourceIDs(customerID, billingMode)
        }
        return Tenant(
            distributor: distributor, partner: partner, customer: customer,
            payPerUseIDs: try await made(.payPerUse, payPerUse), prepaidIDs: try await made(.prepaid, prepaid))
    }

    /// The principal a test made, with an API key.
    private func principal<Entity>(_ id: EntityID<Entity>, _ principal: Principal) async throws -> TestPrincipal<Entity> {
        TestPrincipal(id: id, principal: principal, token: try await token(principal.kind, id))
    }

    /// The token of a further API key for `principal`.
    public func newToken<Entity>(for principal: TestPrincipal<Entity>) async throws -> String {
        try await token(principal.principal.kind, principal.id)
    }

    private func token<Entity>(_ kind: Principal.Kind, _ id: EntityID<Entity>) async throws -> String {
        try await services.apiKeys.create(kind: kind, principalID: id.uuid, context: operatorContext).token
    }

    @discardableResult
    public func provision(_ tenant: Tenant, _ billingMode: BillingMode, count: Int, dataBytes: Int = 1024) async throws -> Int {
        try await provision(tenant.customerID, billingMode, count: count, dataBytes: dataBytes)
    }

    @discardableResult
    public func provision(_ customerID: CustomerID, _ billingMode: BillingMode, count: Int, dataBytes: Int = 1024) async throws -> Int {
        try await services.provisioning.createResources(
            customerID: customerID,
            ResourceProvisioning(
                type: billingMode == .prepaid ? "rds.instance" : "ecs.instance", billingMode: billingMode,
                expiresAt: billingMode == .prepaid ? Date().addingTimeInterval(365 * 86_400) : nil,
                dataBytes: dataBytes, count: count),
            context: operatorContext
        ).created
    }

    /// The customer's resource ids of one billing mode, by id.
    public func resourceIDs(_ tenant: Tenant, _ billingMode: BillingMode) async throws -> [ResourceID] {
        try await resourceIDs(tenant.customerID, billingMode)
    }

    public func resourceIDs(_ customerID: CustomerID, _ billingMode: BillingMode) async throws -> [ResourceID] {
        try await client.query(
            "SELECT id FROM resources WHERE customer_id = $1 AND billing_mode = $2 ORDER BY id", [customerID, billingMode.rawValue]
        ).map { try $0.decode(0) }
    }

    public func suspend(partner tenant: Tenant) async throws {
        _ = try await services.provisioning.updatePartner(
            id: tenant.partnerID, status: .suspended, retentionSeconds: nil, context: operatorContext)
    }

    public func suspend(distributor tenant: Tenant) async throws {
        _ = try await services.provisioning.updateDistributor(
            id: tenant.distributorID, status: .suspended, retentionSeconds: nil, context: operatorContext)
    }

    /// Turns the verification-code setting on for the partner or distributor of `principal`.
    public func requireCodes(for principal: Principal) async throws {
        _ = try await services.settings.update(verificationCodeRequired: true, context: principal.context)
    }

    // MARK: Common changes

    /// Freezes the customer as `principal` (its partner by default).
    @discardableResult
    public func freeze(
        _ tenant: Tenant, as principal: Principal? = nil, type: RestrictionType = .purchaseAndResources,
        reason: String = "unpaid invoices", code: String? = nil
    ) async throws -> FreezeResult {
        try await services.restrictions.freeze(
            customerID: tenant.customerID,
            FreezeRequest(type: type, reason: reason, agreementAccepted: type == .purchaseAndResources, verificationCode: code),
            context: (principal ?? tenant.partner.principal).context)
    }

    @discardableResult
    public func unfreeze(
        _ tenant: Tenant, as principal: Principal? = nil, type: RestrictionType? = nil, reason: String = "invoices paid",
        code: String? = nil
    ) async throws -> UnfreezeResult {
        try await services.restrictions.unfreeze(
            customerID: tenant.customerID, UnfreezeRequest(type: type, reason: reason, verificationCode: code),
            context: (principal ?? tenant.partner.principal).context)
    }

    static func suffix() -> String { String(UUID().uuidString.prefix(8)) }
}

/// A principal a test made: its typed id, the principal as the services see it, and the
/// token of an API key for it.
public struct TestPrincipal<Entity>: Sendable, Hashable {
    public let id: EntityID<Entity>
    public let principal: Principal
    public let token: String

    /// The principal acting in a test's call to a service.
    public var context: ChangeContext { principal.context }
}

/// One chain of tenants — distributor, partner, customer — each a principal with a key, and
/// the customer's resources as provisioned when it was made.
public struct Tenant: Sendable, Hashable {
    public let distributor: TestPrincipal<Distributor>
    public let partner: TestPrincipal<Partner>
    public let customer: TestPrincipal<Customer>
    /// The customer's pay-per-use and prepaid resources when it was made, by id.
    public let payPerUseIDs: [ResourceID]
    public let prepaidIDs: [ResourceID]

    public var distributorID: DistributorID { distributor.id }
    public var partnerID: PartnerID { partner.id }
    public var customerID: CustomerID { customer.id }
}

extension Principal {
    /// The principal acting in a test request.
    public var context: ChangeContext { ChangeContext(principal: self, requestID: "test-\(kind.rawValue)") }
}

extension EntityID {
    /// The UUID in Foundation's uppercase form, for the tests that send ids in upper case
    /// (any case is accepted on input). An id interpolated into a path is lowercase, as its
    /// `description` is.
    public var uuidString: String { uuid.uuidString }
}
