import Foundation
import Postgres

/// Who sees what (DESIGN §3 invariant 7): decided here and nowhere else, and enforced twice.
///
/// First by the services, with the Swift predicates and SQL filters below, before any row
/// is locked; then by the database: every transaction that touches customer-scoped rows
/// names its tenant (`PostgresConnection.name`), and row-level security (schema 0012) lets
/// the application role see that tenant's rows only, whatever the SQL says. Whatever a
/// principal may not see answers `not_found`, like something that does not exist.
public enum Access {
    /// The tenant a transaction names for row-level security.
    public enum Tenant: Sendable, Equatable {
        /// The operator, the retention sweep and key lookup: their explicit paths to every row.
        case all
        case distributor(DistributorID)
        case partner(PartnerID)
        case customer(CustomerID)

        var kind: String {
            switch self {
            case .all: "all"
            case .distributor: "distributor"
            case .partner: "partner"
            case .customer: "customer"
            }
        }

        var id: UUID? {
            switch self {
            case .all: nil
            case .distributor(let id): id.uuid
            case .partner(let id): id.uuid
            case .customer(let id): id.uuid
            }
        }
    }

    /// The tenant a principal's requests act in.
    public static func tenant(of principal: Principal) -> Tenant {
        switch principal.kind {
        case .operator: .all
        case .distributor: .distributor(DistributorID(principal.id))
        case .partner: .partner(PartnerID(principal.id))
        case .customer: .customer(CustomerID(principal.id))
        }
    }

    /// Whether `principal` may see the customer `customerID` of `partnerID` under `distributorID`.
    public static func canSee(_ principal: Principal, customerID: CustomerID, partnerID: PartnerID, distributorID: DistributorID) -> Bool {
        switch principal.kind {
        case .operator: true
        case .distributor: principal.distributorID == distributorID
        case .partner: principal.partnerID == partnerID
        case .customer: principal.customerID == customerID
        }
    }

    /// Whether `principal` may see the partner `partnerID` under `distributorID` (its grant).
    public static func canSee(_ principal: Principal, partnerID: PartnerID, distributorID: DistributorID) -> Bool {
        switch principal.kind {
        case .operator: true
        case .distributor: principal.distributorID == distributorID
        case .partner: principal.partnerID == partnerID
        case .customer: false
        }
    }

    /// The SQL filter on `customers` (aliased `alias`) that keeps the principal's customers,
    /// with the value to bind as `parameter` (the operator's filter binds a value it ignores,
    /// so every form has the same parameters).
    static func customerFilter(_ principal: Principal, alias: String, parameter: String) -> (sql: String, bind: UUID) {
        switch principal.kind {
        case .operator: ("\(parameter)::uuid IS NOT NULL", principal.id)
        case .distributor: ("\(alias).distributor_id = \(parameter)", principal.id)
        case .partner: ("\(alias).partner_id = \(parameter)", principal.id)
        case .customer: ("\(alias).id = \(parameter)", principal.id)
        }
    }

    /// The SQL filter on `audit_events` or `outbox_events` that keeps the principal's slice:
    /// one of four fixed columns (never input) against `parameter`, which is NULL for the operator.
    static func eventFilter(_ principal: Principal, parameter: String) -> (sql: String, bind: UUID?) {
        switch principal.kind {
        case .operator: ("\(parameter)::uuid IS NULL", nil)
        case .distributor: ("distributor_id = \(parameter)", principal.id)
        case .partner: ("partner_id = \(parameter)", principal.id)
        case .customer: ("customer_id = \(parameter)", principal.id)
        }
    }

    static let ownersSQL = "SELECT partner_id, distributor_id FROM customers WHERE id = $1"

    /// Throws `not_found` unless the transaction's principal may see the customer; row-level
    /// security already hides another tenant's row, the predicate says so in Swift too.
    static func requireVisible(_ principal: Principal, customerID: CustomerID, _ connection: PostgresConnection) throws {
        guard let row = try connection.query(ownersSQL, [customerID]).first,
            canSee(principal, customerID: customerID, partnerID: try row.decode(0), distributorID: try row.decode(1))
        else { throw PartnerError.notFound("the customer") }
    }

    /// A customer's own purchases and usage: only that customer. Another customer learns
    /// nothing (`not_found`); anyone else is told the route is not theirs.
    static func requireOwnCustomer(_ principal: Principal, _ customerID: CustomerID, _ what: String) throws {
        guard principal.kind == .customer, principal.customerID == customerID else {
            if principal.kind == .customer { throw PartnerError.notFound("the customer") }
            throw PartnerError(.forbidden, "only the customer \(what)")
        }
    }
}

extension PostgresConnection {
    /// Names the transaction's tenant for row-level security (schema 0012, `name_tenant`):
    /// the first statement of a transaction that touches customer-scoped rows. A later call
    /// may only narrow to a customer the tenant sees.
    func name(_ tenant: Access.Tenant) throws {
        try query("SELECT name_tenant($1, $2)", [tenant.kind, tenant.id])
    }
}

extension PostgresClient {
    /// A transaction in `tenant`: it names the tenant first, then runs `body`.
    func withTransaction<T: Sendable>(
        in tenant: Access.Tenant, readOnly: Bool = false, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withTransaction(readOnly: readOnly) { connection in
            try connection.name(tenant)
            return try body(connection)
        }
    }
}
