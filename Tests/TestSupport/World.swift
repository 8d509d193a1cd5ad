import Foundation
import PartnerCore
import Postgres

/// Tenants and resources built through the real services, with an operator's context, so a
/// test sets up exactly what production would and then acts as one of the principals.
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
        return World(
            client: client, services: services,
            operatorContext: ChangeContext(principal: Principal(kind: .operator, id: key.principalId), requestID: "test-setup"))
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
        let distributor = try await services.provisioning.createDistributor(
            name: "Distributor \(Self.suffix())", retentionSeconds: retentionSeconds, context: operatorContext)
        return try await tenant(under: distributor.id, partnerHoldsGrant: partnerHoldsGrant, payPerUse: payPerUse,
                                prepaid: prepaid, dataBytes: dataBytes)
    }

    /// A new partner (and customer) under an existing distributor.
    public func tenant(
        under distributorID: UUID, partnerHoldsGrant: Bool = true, payPerUse: Int = 3, prepaid: Int = 2, dataBytes: Int = 1024
    ) async throws -> Tenant {
        let partner = try await services.provisioning.createPartner(
            distributorID: distributorID, name: "Partner \(Self.suffix())", context: operatorContext)
        let tenant = Tenant(distributorID: distributorID, partnerID: partner.id, customerID: UUID())
        if partnerHoldsGrant {
            _ = try await services.grants.grant(partnerID: partner.id, context: tenant.distributor.context)
        }
        return try await customer(of: tenant, payPerUse: payPerUse, prepaid: prepaid, dataBytes: dataBytes)
    }

    /// Another customer of the same partner.
    public func customer(of tenant: Tenant, payPerUse: Int = 3, prepaid: Int = 2, dataBytes: Int = 1024) async throws -> Tenant {
        let customerID = try await services.provisioning.createCustomer(
            partnerID: tenant.partnerID, name: "Customer \(Self.suffix())", context: operatorContext).id
        let customer = Tenant(distributorID: tenant.distributorID, partnerID: tenant.partnerID, customerID: customerID)
        if payPerUse > 0 { try await provision(customer, .payPerUse, count: payPerUse, dataBytes: dataBytes) }
        if prepaid > 0 { try await provision(customer, .prepaid, count: prepaid, dataBytes: dataBytes) }
        return customer
    }

    @discardableResult
    public func provision(_ tenant: Tenant, _ billingMode: BillingMode, count: Int, dataBytes: Int = 1024) async throws -> Int {
        try await services.provisioning.createResources(
            customerID: tenant.customerID,
            ResourceProvisioning(
                type: billingMode == .prepaid ? "rds.instance" : "ecs.instance", billingMode: billingMode,
                expiresAt: billingMode == .prepaid ? Date().addingTimeInterval(365 * 86_400) : nil,
                dataBytes: dataBytes, count: count),
            context: operatorContext
        ).created
    }

    /// The customer's resource ids of one billing mode, by id.
    public func resourceIDs(_ tenant: Tenant, _ billingMode: BillingMode) async throws -> [UUID] {
        try await client.query(
            "SELECT id FROM resources WHERE customer_id = $1 AND billing_mode = $2 ORDER BY id",
            [tenant.customerID, billingMode.rawValue]
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

    public func freeze(
        _ tenant: Tenant, as principal: Principal? = nil, type: RestrictionType = .purchaseAndResources,
        reason: String = "unpaid invoices", code: String? = nil
    ) async throws -> FreezeResult {
        try await services.restrictions.freeze(
            customerID: tenant.customerID,
            FreezeRequest(type: type, reason: reason, agreementAccepted: type == .purchaseAndResources, verificationCode: code),
            context: (principal ?? tenant.partner).context)
    }

    public func unfreeze(
        _ tenant: Tenant, as principal: Principal? = nil, type: RestrictionType? = nil, reason: String = "invoices paid",
        code: String? = nil
    ) async throws -> UnfreezeResult {
        try await services.restrictions.unfreeze(
            customerID: tenant.customerID, UnfreezeRequest(type: type, reason: reason, verificationCode: code),
            context: (principal ?? tenant.partner).context)
    }

    static func suffix() -> String { String(UUID().uuidString.prefix(8)) }
}

/// One chain of tenants — distributor, partner, customer — and each as a principal.
public struct Tenant: Sendable, Hashable {
    public let distributorID: UUID
    public let partnerID: UUID
    public let customerID: UUID

    public init(distributorID: UUID, partnerID: UUID, customerID: UUID) {
        self.distributorID = distributorID
        self.partnerID = partnerID
        self.customerID = customerID
    }

    public var distributor: Principal { Principal(kind: .distributor, id: distributorID) }
    public var partner: Principal { Principal(kind: .partner, id: partnerID, distributorID: distributorID) }
    public var customer: Principal {
        Principal(kind: .customer, id: customerID, distributorID: distributorID, partnerID: partnerID)
    }
}

extension Principal {
    /// The principal acting in a test request.
    public var context: ChangeContext { ChangeContext(principal: self, requestID: "test-\(kind.rawValue)") }
}
