import Foundation
import Postgres

/// An integration event as consumers read it from the feed.
public struct OutboxEvent: Sendable, Codable, Equatable {
    public var id: Int64
    public var type: String
    public var occurredAt: Date
    public var customerId: UUID?
    public var data: PostgresJSON
}

/// Appends integration events in the caller's transaction and serves them in order.
///
/// The feed only returns events of transactions older than every transaction still running
/// (`pg_snapshot_xmin`), ordered by (writing transaction, id): a consumer that has read up to
/// a position can never later find an event before it (DESIGN §2, Outbox).
public struct Outbox: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public enum EventType {
        public static let customerRestricted = "customer.restricted"
        public static let customerUnrestricted = "customer.unrestricted"
        public static let resourcesFrozen = "resources.frozen"
        public static let resourcesUnfrozen = "resources.unfrozen"
        public static let retentionExpiring = "resource.retention_expiring"
        public static let resourceReleased = "resource.released"
        public static let grantChanged = "grant.changed"
    }

    static func append(
        _ connection: PostgresConnection, type: String, scope: TenantScope, data: [String: JSONValue]
    ) throws {
        try connection.execute(
            "INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data) VALUES ($1, $2, $3, $4, $5)",
            [type, scope.distributorID, scope.partnerID, scope.customerID, try PostgresJSON(.object(data))])
    }

    /// Events after `page`'s position, oldest first, scoped to the caller.
    public func feed(_ principal: Principal, page: PageRequest) async throws -> Page<OutboxEvent> {
        var txid = "0"
        var afterID: Int64 = 0
        if let position = page.position {
            let parts = position.split(separator: ":")
            guard parts.count == 2, UInt64(parts[0]) != nil, let id = Int64(parts[1]) else {
                throw PartnerError.validation("after is not a cursor this service returned")
            }
            txid = String(parts[0])
            afterID = id
        }
        let scopeColumn = principal.tenantScopeColumn
        let sql = """
            SELECT id, txid::text, type, occurred_at, customer_id, data FROM outbox_events
            WHERE ($1::uuid IS NULL OR \(scopeColumn) = $1)
              AND txid < pg_snapshot_xmin(pg_current_snapshot())
              AND (txid, id) > ($2::text::xid8, $3::bigint)
            ORDER BY txid, id LIMIT $4
            """
        let scopeID = principal.tenantScopeID
        let rows = try await client.query(sql, [scopeID, txid, afterID, page.limit + 1])
        var positions: [Int64: String] = [:]
        let events = try rows.map { row in
            let id: Int64 = try row.decode(0)
            positions[id] = "\(try row.decode(1, as: String.self)):\(id)"
            return OutboxEvent(
                id: id, type: try row.decode(2), occurredAt: try row.decode(3),
                customerId: try row.decode(4, as: UUID?.self), data: try row.decode(5))
        }
        // A feed always hands back a position to poll from, even at its end.
        let items = Array(events.prefix(page.limit))
        let last = items.last.flatMap { positions[$0.id] } ?? page.position
        return Page(items: items, nextCursor: last.map(Cursor.encode))
    }
}
