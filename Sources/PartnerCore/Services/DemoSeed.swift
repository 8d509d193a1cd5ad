import Foundation
import Postgres

/// A small demo world for `seed-demo` and `Scripts/run`: one distributor, two partners (one
/// holding the freeze permission), customers with prepaid and pay-per-use resources, and a
/// key for each principal.
public struct DemoSeed: Sendable {
    public struct Key: Sendable, Equatable {
        public var role: String
        public var name: String
        public var kind: Principal.Kind
        public var id: UUID
        public var token: String
    }

    let services: PartnerServices

    public init(services: PartnerServices) { self.services = services }

    public func run() async throws -> [Key] {
        let operatorKey = try await services.apiKeys.createOperator(name: "Demo platform operator")
        let operatorContext = ChangeContext(principal: Principal(kind: .operator, id: operatorKey.principalId), requestID: "seed-demo")
        let distributor = try await services.provisioning.createDistributor(
            name: "Northwind Distribution", retentionSeconds: nil, context: operatorContext)
        let granted = try await services.provisioning.createPartner(
            distributorID: distributor.id, name: "Contoso Cloud Partners", context: operatorContext)
        let other = try await services.provisioning.createPartner(
            distributorID: distributor.id, name: "Fabrikam Resellers", context: operatorContext)
        let distributorContext = ChangeContext(principal: .distributor(distributor.id), requestID: "seed-demo")
        _ = try await services.grants.grant(partnerID: granted.id, context: distributorContext)

        var customers: [(name: String, id: CustomerID)] = []
        for (partner, names) in [(granted.id, ["Adatum Corporation", "Litware Inc.", "Proseware Ltd."]),
                                 (other.id, ["Tailspin Toys", "Wingtip Toys"])] {
            for name in names {
                let id = try await services.provisioning.createCustomer(partnerID: partner, name: name, context: operatorContext).id
                customers.append((name, id))
                _ = try await services.provisioning.createResources(
                    customerID: id, ResourceProvisioning(type: "ecs.instance", billingMode: .payPerUse, dataBytes: 10 << 20, count: 5),
                    context: operatorContext)
                _ = try await services.provisioning.createResources(
                    customerID: id, ResourceProvisioning(type: "evs.disk", billingMode: .payPerUse, dataBytes: 50 << 20, count: 3),
                    context: operatorContext)
                _ = try await services.provisioning.createResources(
                    customerID: id, ResourceProvisioning(type: "rds.instance", billingMode: .prepaid,
                                                         expiresAt: Date().addingTimeInterval(365 * 86_400), count: 2),
                    context: operatorContext)
            }
        }
        func key(_ role: String, _ name: String, _ kind: Principal.Kind, _ id: UUID) async throws -> Key {
            let created = try await services.apiKeys.create(kind: kind, principalID: id, context: operatorContext)
            return Key(role: role, name: name, kind: kind, id: id, token: created.token)
        }
        return [
            Key(role: "operator", name: "Demo platform operator", kind: .operator, id: operatorKey.principalId,
                token: operatorKey.token),
            try await key("distributor", distributor.name, .distributor, distributor.id.uuid),
            try await key("partner", granted.name + " (holds the freeze permission)", .partner, granted.id.uuid),
            try await key("partner-without-permission", other.name, .partner, other.id.uuid),
            try await key("customer", customers[0].name, .customer, customers[0].id.uuid),
        ]
    }
}
