import Foundation
import Postgres

/// The tenants an event belongs to, so each principal reads only its own slice.
public struct TenantScope: Sendable, Equatable {
    public var distributorID: DistributorID?
    public var partnerID: PartnerID?
    public var customerID: CustomerID?

    public init(distributorID: DistributorID?, partnerID: PartnerID? = nil, customerID: CustomerID? = nil) {
        self.distributorID = distributorID
        self.partnerID = partnerID
        self.customerID = customerID
    }

    /// The most specific tenant: the `tenant_id` that places an audit or outbox row (the
    /// distribution column on Citus, schema 0009), so a customer's rows share its shard.
    public var tenantID: UUID? { customerID?.uuid ?? partnerID?.uuid ?? distributorID?.uuid }
}

/// One entry of the audit log.
public struct AuditEvent: Sendable, Codable, Equatable {
    public var id: Int64
    public var occurredAt: Date
    public var actor: AuditActor
    public var action: String
    public var targetKind: String
    public var targetId: UUID?
    public var customerId: CustomerID?
    public var reason: String?
    public var requestId: String?
    public var details: PostgresJSON
}

public struct AuditActor: Sendable, Codable, Equatable {
    public var kind: String
    public var id: UUID?
}

/// Appends audit events inside the caller's transaction (the append-only table and the
/// role's privileges make them immutable), and reads them back per tenant.
public struct AuditLog: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let insertSQL = """
        INSERT INTO audit_events
            (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id, customer_id,
             reason, request_id, details, tenant_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """

    /// Records one change of state. Called inside the transaction that makes the change.
    /// A change outside every tenant (an operator's own key) is filed under the actor.
    static func append(
        _ connection: PostgresConnection, _ context: ChangeContext, action: String,
        target: (kind: String, id: UUID?), scope: TenantScope, reason: String? = nil,
        details: [String: JSONValue] = [:]
    ) throws {
        try connection.execute(insertSQL, [
            context.principal.actorKind, context.principal.id, action, target.kind, target.id,
            scope.distributorID, scope.partnerID, scope.customerID, reason, context.requestID,
            try PostgresJSON(.object(details)), scope.tenantID ?? context.principal.id,
        ])
    }

    static let columns = """
        id, occurred_at, actor_kind, actor_id, action, target_kind, target_id, customer_id, reason, request_id, details
        """

    /// The caller's audit events, newest first, optionally for one customer.
    public func list(_ principal: Principal, customerID: CustomerID?, page: PageRequest) async throws -> Page<AuditEvent> {
        let before = try page.position.map { position -> Int64 in
            guard let id = Int64(position) else { throw PartnerError.validation("cursor is not one this service returned") }
            return id
        }
        let visible = Access.eventFilter(principal, parameter: "$1")
        let sql = """
            SELECT \(Self.columns) FROM audit_events
            WHERE \(visible.sql)
              AND ($2::uuid IS NULL OR customer_id = $2)
              AND ($3::bigint IS NULL OR id < $3)
            ORDER BY id DESC LIMIT $4
            """
        let rows = try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            if let customerID { try Access.requireVisible(principal, customerID: customerID, connection) }
            return try connection.query(sql, [visible.bind, customerID, before, page.limit + 1])
        }
        let events = try rows.map { row in
            AuditEvent(
                id: try row.decode(0), occurredAt: try row.decode(1),
                actor: AuditActor(kind: try row.decode(2), id: try row.decode(3, as: UUID?.self)),
                action: try row.decode(4), targetKind: try row.decode(5), targetId: try row.decode(6, as: UUID?.self),
                customerId: try row.decode(7, as: CustomerID?.self), reason: try row.decode(8, as: String?.self),
                requestId: try row.decode(9, as: String?.self), details: try row.decode(10))
        }
        return page.page(events) { String($0.id) }
    }
}
