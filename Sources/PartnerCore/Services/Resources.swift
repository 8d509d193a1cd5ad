import Foundation
import Postgres

/// Reading resources, scoped to the caller.
public struct Resources: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let returningColumns = """
        customer_id, id, type, billing_mode, state, spec, expires_at, frozen_at, retention_until, released_at, created_at,
        frozen_reason, grace_until
        """

    static func resource(_ row: PostgresRow) throws -> Resource {
        Resource(
            id: try row.decode(1), customerId: try row.decode(0), type: try row.decode(2),
            billingMode: try row.decode(3, as: BillingMode.self),
            state: try row.decode(4, as: ResourceState.self),
            spec: try row.decode(5), expiresAt: try row.decode(6, as: Date?.self), frozenAt: try row.decode(7, as: Date?.self),
            retentionUntil: try row.decode(8, as: Date?.self), releasedAt: try row.decode(9, as: Date?.self),
            createdAt: try row.decode(10), frozenReason: try row.decode(11, as: FrozenReason?.self),
            graceUntil: try row.decode(12, as: Date?.self))
    }

    /// A customer's resources by id, optionally in one state.
    public func list(_ principal: Principal, customerID: CustomerID, state: ResourceState?, page: PageRequest) async throws -> Page<Resource> {
        let after = try page.position.map { position -> UUID in
            guard let id = UUID(uuidString: position) else { throw PartnerError.validation("cursor is not one this service returned") }
            return id
        }
        let rows = try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            try Access.requireVisible(principal, customerID: customerID, connection)
            try connection.name(.customer(customerID))
            return try connection.query("""
                SELECT \(Self.returningColumns) FROM resources
                WHERE customer_id = $1 AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR id > $3)
                ORDER BY id LIMIT $4
                """, [customerID, state?.rawValue, after, page.limit + 1])
        }
        return page.page(try rows.map(Self.resource)) { $0.id.lowercasedString }
    }
}
