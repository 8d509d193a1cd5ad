import Foundation
import Postgres

/// Customer Management: the customers a partner or distributor sees, each with its active
/// restriction and the operations the caller may apply now.
public struct Customers: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Rows carry everything `Authority` needs, so the Operation column is computed by the
    /// same rule the freeze path enforces.
    static let selectSQL = """
        SELECT c.id, c.partner_id, p.distributor_id, c.name, c.status, c.created_at,
               p.status, d.status,
               EXISTS (SELECT 1 FROM freeze_permission_grants g WHERE g.partner_id = p.id AND g.revoked_at IS NULL),
               r.id, r.type, r.reason, r.applied_by_kind, r.applied_by_id, r.applied_at, r.agreement_version,
               c.level, r.lift_at, r.origin,
               b.amount::text, \(Budgets.spentSQL("b")), b.on_exhaustion
        FROM customers c
        JOIN partners p ON p.id = c.partner_id
        JOIN distributors d ON d.id = p.distributor_id
        LEFT JOIN restrictions r ON r.customer_id = c.id AND r.lifted_at IS NULL
        LEFT JOIN budgets b ON b.customer_id = c.id
        """

    public func list(_ principal: Principal, status: CustomerStatus?, page: PageRequest) async throws -> Page<Customer> {
        let after = try page.position.map { position -> UUID in
            guard let id = UUID(uuidString: position) else { throw PartnerError.validation("cursor is not one this service returned") }
            return id
        }
        let visible = Access.customerFilter(principal, alias: "c", parameter: "$1")
        let sql = """
            \(Self.selectSQL)
            WHERE \(visible.sql) AND ($2::text IS NULL OR c.status = $2) AND ($3::uuid IS NULL OR c.id > $3)
            ORDER BY c.id LIMIT $4
            """
        let rows = try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            try connection.query(sql, [visible.bind, status?.rawValue, after, page.limit + 1])
        }
        return page.page(try rows.map { try Self.customer($0, for: principal) }) { $0.id.lowercasedString }
    }

    /// One customer with its resource counts; another tenant's customer is `not_found`.
    public func get(_ principal: Principal, customerID: CustomerID) async throws -> Customer {
        try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            guard let row = try connection.query("\(Self.selectSQL) WHERE c.id = $1", [customerID]).first else {
                throw PartnerError.notFound("the customer")
            }
            var customer = try Self.customer(row, for: principal)
            guard Access.canSee(principal, customerID: customer.id, partnerID: customer.partnerId, distributorID: customer.distributorId)
            else { throw PartnerError.notFound("the customer") }
            // Its resources are read as the customer's own (row-level security, schema 0012).
            try connection.name(.customer(customerID))
            let counts = try connection.query(
                "SELECT billing_mode, state, count(*) FROM resources WHERE customer_id = $1 GROUP BY 1, 2", [customerID])
            var prepaid = ResourceCounts.zero.prepaid
            var payPerUse = prepaid
            var total = 0
            for count in counts {
                let n: Int = try count.decode(2)
                total += n
                if try count.decode(0, as: String.self) == BillingMode.prepaid.rawValue {
                    prepaid[try count.decode(1), default: 0] += n
                } else {
                    payPerUse[try count.decode(1), default: 0] += n
                }
            }
            customer.resourceCounts = ResourceCounts(prepaid: prepaid, payPerUse: payPerUse, total: total)
            return customer
        }
    }

    static func customer(_ row: PostgresRow, for principal: Principal) throws -> Customer {
        let status = try row.decode(4, as: CustomerStatus.self)
        let authority = Authority(facts: .init(
            partnerID: try row.decode(1), distributorID: try row.decode(2),
            partnerStatus: try row.decode(6, as: TenantStatus.self),
            distributorStatus: try row.decode(7, as: TenantStatus.self),
            partnerHoldsGrant: try row.decode(8)))
        var restriction: Restriction? = nil
        if let restrictionID = try row.decode(9, as: RestrictionID?.self) {
            restriction = Restriction(
                id: restrictionID, type: try row.decode(10, as: RestrictionType.self),
                reason: try row.decode(11), appliedBy: ActorRef(kind: try row.decode(12), id: try row.decode(13, as: UUID?.self)),
                appliedAt: try row.decode(14), agreementVersion: try row.decode(15, as: String?.self),
                liftAt: try row.decode(17, as: Date?.self), origin: try row.decode(18, as: RestrictionOrigin.self))
        }
        var budget: BudgetSummary? = nil
        if let amount = try row.decode(19, as: String?.self) {
            budget = BudgetSummary(
                amount: amount, spent: try row.decode(20), percentUsed: try row.decode(21),
                onExhaustion: try row.decode(22, as: BudgetPolicy.self))
        }
        return Customer(
            id: try row.decode(0), partnerId: try row.decode(1), distributorId: try row.decode(2), name: try row.decode(3),
            level: try row.decode(16, as: CustomerLevel.self), status: status, activeRestriction: restriction,
            availableOperations: authority.operations(for: principal, status: status), createdAt: try row.decode(5),
            resourceCounts: nil, budget: budget)
    }
}
