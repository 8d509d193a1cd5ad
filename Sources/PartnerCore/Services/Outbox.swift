import Foundation
import Postgres

/// An integration event as consumers read it from the feed.
public struct OutboxEvent: Sendable, Codable, Equatable {
    public var id: Int64
    public var type: String
    public var occurredAt: Date
    public var customerId: CustomerID?
    public var data: PostgresJSON
}

/// Appends integration events in the caller's transaction and serves them in order.
///
/// The feed only returns events of transactions older than every transaction still running
/// (`pg_snapshot_xmin`), ordered by (writing transaction, id): a consumer that has read up to
/// a position can never later find an event before it (DESIGN §2, Outbox).
///
/// On Citus the rows sit on the workers but `txid` is the coordinator's transaction (the
/// coordinator evaluates the column default), so the horizon is taken on the coordinator,
/// in a statement of its own, before the rows are read. A customer's transaction commits on
/// its one worker before the coordinator commits, so its events are visible once the
/// horizon passes it. A transaction that also writes reference tables commits in two
/// phases, and its workers commit only after the coordinator has: such transactions append
/// through `append`, which holds `feedBarrier` shared until the very end, and the reader
/// takes the barrier once after reading the horizon, so every writer below the horizon has
/// finished on every node.
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
        /// A renewal took an expired or frozen-for-expiry resource back to active.
        public static let resourceReactivated = "resource.reactivated"
        public static let grantChanged = "grant.changed"
        /// A budget's 75, 90 or 100 % threshold was reached (schema 0015, settle_budget).
        public static let budgetThresholdReached = "budget.threshold_reached"
        /// A budget was exhausted but its setter can no longer restrict the customer.
        public static let budgetRestrictionSkipped = "budget.restriction_skipped"

        /// The lifecycle's steps (schema 0014, in SQL only).
        public static let resourceExpiring = "resource.expiring"
        public static let resourceGraceExpiring = "resource.grace_expiring"
        public static let resourceExpired = "resource.expired"

        /// Every type the service appends: what a webhook may subscribe to.
        public static let all: Set<String> = [
            customerRestricted, customerUnrestricted, resourcesFrozen, resourcesUnfrozen, retentionExpiring, resourceReleased,
            resourceReactivated, grantChanged, budgetThresholdReached, budgetRestrictionSkipped, resourceExpiring,
            resourceGraceExpiring, resourceExpired,
        ]
    }

    /// The advisory lock between two-phase writers of events (shared) and feed readers.
    static let feedBarrier: Int64 = 0x5043_4645_4544  // "PCFEED"

    /// Appends one event in the caller's transaction (grants: a tenant-level change that
    /// writes reference tables on Citus, so it commits in two phases and holds the feed
    /// barrier). Customer-scoped statements insert their events on the customer's shard:
    /// in SQL, or through `appendOnShard`.
    static func append(
        _ connection: PostgresConnection, type: String, scope: TenantScope, data: [String: JSONValue]
    ) throws {
        try connection.query("SELECT pg_advisory_xact_lock_shared($1)", [feedBarrier])
        try appendOnShard(connection, type: type, scope: scope, data: data)
    }

    /// Appends one event of a transaction that writes only its tenant's shard (on Citus one
    /// worker, committed in one phase), so no feed barrier is needed.
    static func appendOnShard(
        _ connection: PostgresConnection, type: String, scope: TenantScope, data: [String: JSONValue]
    ) throws {
        try connection.execute(
            "INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id) VALUES ($1, $2, $3, $4, $5, $6)",
            [type, scope.distributorID, scope.partnerID, scope.customerID, try PostgresJSON(.object(data)), scope.tenantID])
    }

    /// The oldest transaction still running, as the coordinator sees it: events below it
    /// are final. A statement without tables, so Citus evaluates it on the coordinator.
    static let horizonSQL = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
    /// Waits for two-phase writers below the horizon to finish on every node.
    static let barrierSQL = "SELECT pg_advisory_xact_lock($1)"

    /// Events after `page`'s position, oldest first, scoped to the caller.
    /// How long integration events are kept by default (DESIGN §11): longer than any
    /// consumer's retry window, shorter than forever.
    public static let defaultRetentionSeconds: Double = 30 * 86_400

    /// Deletes the events older than `retentionSeconds`, oldest first, an hour of events per
    /// statement (`purge_outbox_events`, a range of `outbox_events_occurred`, schema 0016), so
    /// no statement holds a month of rows. A feed reader whose cursor points at a purged event goes on from the
    /// next one. Answers how many events went.
    public static func purge(_ client: PostgresClient, olderThanSeconds retentionSeconds: Double = defaultRetentionSeconds) async throws -> Int {
        var purged = 0
        while true {
            let deleted = try await client.withTransaction(in: .all) { connection -> Int? in
                let bounds = try connection.query(
                    "SELECT min(occurred_at), now() - make_interval(secs => $1) FROM outbox_events", [retentionSeconds]).single()
                guard let oldest = try bounds.decode(0, as: Date?.self) else { return nil }
                let cutoff: Date = try bounds.decode(1)
                guard oldest < cutoff else { return nil }
                // As the schema owner: the application role only appends events (schema 0016).
                return try connection.query("SELECT purge_outbox_events($1, $2)", [oldest, cutoff]).single().decode(0, as: Int.self)
            }
            guard let deleted else { return purged }
            purged += deleted
        }
    }

    /// The principal's events after `position` (a transaction id and an event id), oldest
    /// first, each with its own position (`txid:id`): what the feed pages through and the
    /// webhook worker sends, in one place. Types nil: every type. Run in a transaction in the
    /// principal's tenant: the horizon is read in a statement of its own, after the tenant is
    /// named and before the rows; the barrier lock is held until the rows are read (the
    /// transaction's end).
    static func read(
        _ principal: Principal, after position: (txid: String, id: Int64), types: [String]?, limit: Int, _ connection: PostgresConnection
    ) throws -> [(event: OutboxEvent, position: String)] {
        let visible = Access.eventFilter(principal, parameter: "$1")
        // Ordered by the xid8 column itself: `txid::text` is selected under another name,
        // or ORDER BY would bind to the text and put 1000 before 999.
        let sql = """
            SELECT id, txid::text AS position_txid, type, occurred_at, customer_id, data FROM outbox_events
            WHERE \(visible.sql)
              AND txid < $5::text::xid8
              AND (txid, id) > ($2::text::xid8, $3::bigint)
              AND ($6::text[] IS NULL OR type = ANY ($6::text[]))
            ORDER BY txid, id LIMIT $4
            """
        let horizon: String = try connection.query(Self.horizonSQL).single().decode(0)
        try connection.query(Self.barrierSQL, [Self.feedBarrier])
        return try connection.query(sql, [visible.bind, position.txid, position.id, limit, horizon, types]).map { row in
            let id: Int64 = try row.decode(0)
            let event = OutboxEvent(
                id: id, type: try row.decode(2), occurredAt: try row.decode(3),
                customerId: try row.decode(4, as: CustomerID?.self), data: try row.decode(5))
            return (event, "\(try row.decode(1, as: String.self)):\(id)")
        }
    }

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
        let events = try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { [txid, afterID] connection in
            try Self.read(principal, after: (txid, afterID), types: nil, limit: page.limit + 1, connection)
        }
        // A feed always hands back a position to poll from, even at its end.
        let shown = events.prefix(page.limit)
        let last = shown.last?.position ?? page.position
        return Page(items: shown.map(\.event), nextCursor: last.map(Cursor.encode))
    }
}
