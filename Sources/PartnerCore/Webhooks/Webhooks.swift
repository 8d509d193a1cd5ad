import Foundation
import Postgres

/// Webhook subscriptions (DESIGN §11): a distributor or partner subscribes a URL to its
/// feed, lists and deletes its subscriptions, and reads each one's delivery attempts. A
/// subscription is its owner's alone: another principal, even the distributor above a
/// partner, gets `not_found`. Created and deleted with an audit event. `WebhookDelivery`
/// sends the events.
public struct Webhooks: Sendable {
    let client: PostgresClient
    /// Shared with the delivery worker, which opens what this seals.
    public let key: WebhookSecretKey
    /// Production takes `https` URLs only (`WebhookURL`).
    let production: Bool

    /// Subscriptions one owner may have at once.
    public static let maximumPerOwner = 20

    public init(client: PostgresClient, key: WebhookSecretKey, production: Bool) {
        self.client = client
        self.key = key
        self.production = production
    }

    static let columns = """
        id, url, event_types, secret_prefix, created_at, next_attempt_at, attempts
        """

    static func webhook(_ row: PostgresRow) throws -> Webhook {
        Webhook(
            id: try row.decode(0), url: try row.decode(1), eventTypes: try row.decode(2, as: [String]?.self),
            secretPrefix: try row.decode(3), createdAt: try row.decode(4), nextAttemptAt: try row.decode(5),
            failedAttempts: try row.decode(6))
    }

    /// The owner's own subscriptions filter: the owner kind and its id.
    static let ownedSQL = """
        deleted_at IS NULL AND owner_kind = $1
        AND (CASE WHEN $1 = 'partner' THEN partner_id ELSE distributor_id END) = $2
        """

    /// Only a distributor or a partner subscribes; the operator and customers are told so.
    static func requireOwner(_ principal: Principal) throws {
        try principal.requirePartnerOrDistributor("webhooks are a distributor's or a partner's")
    }

    public func create(url text: String?, eventTypes: [String]?, context: ChangeContext) async throws -> CreatedWebhook {
        let principal = context.principal
        try Self.requireOwner(principal)
        let url = try WebhookURL.validate(text, production: production)
        let types = try Self.validate(eventTypes)
        let secret = WebhookSignature.newSecret()
        let prefix = String(secret.prefix(12))
        let id = UUID.random()
        return try await client.withTransaction(answering: context) { connection in
            let count: Int = try connection.query(
                "SELECT count(*)::int FROM webhook_subscriptions WHERE \(Self.ownedSQL)", [principal.kind.rawValue, principal.id]
            ).single().decode(0)
            guard count < Self.maximumPerOwner else {
                throw PartnerError.validation("at most \(Self.maximumPerOwner) webhooks per \(principal.kind.rawValue); delete one first")
            }
            let sealed = try key.seal(secret, subscription: id, connection)
            let created: Date = try connection.query("""
                INSERT INTO webhook_subscriptions
                    (id, owner_kind, distributor_id, partner_id, url, event_types, secret_sealed, secret_prefix, created_by_kind, created_by_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $2, $9)
                RETURNING created_at
                """, [id, principal.kind.rawValue, principal.distributorID, principal.partnerID, url.absoluteString, types, sealed, prefix,
                      principal.id]).single().decode(0)
            try AuditLog.append(
                connection, context, action: "webhook.created", target: ("webhook", id), scope: Self.scope(principal),
                details: ["url": .string(url.absoluteString), "event_types": types.map { .array($0.map(JSONValue.string)) } ?? .null])
            return CreatedWebhook(id: id, url: url.absoluteString, eventTypes: types, secret: secret, secretPrefix: prefix, createdAt: created)
        }
    }

    /// The owner's subscriptions, oldest first (at most `maximumPerOwner`: never paged).
    public func list(_ principal: Principal) async throws -> [Webhook] {
        try Self.requireOwner(principal)
        return try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM webhook_subscriptions WHERE \(Self.ownedSQL) ORDER BY created_at, id",
                [principal.kind.rawValue, principal.id]
            ).map(Self.webhook)
        }
    }

    /// Deletes a subscription: nothing more is sent to it (a batch in flight finishes its
    /// current attempt). The row stays, marked deleted, for its attempts, which the retention
    /// sweep removes with the events; the API no longer shows either.
    public func delete(id: UUID, context: ChangeContext) async throws -> Webhook {
        let principal = context.principal
        try Self.requireOwner(principal)
        return try await client.withTransaction(answering: context) { connection in
            guard let row = try connection.query("""
                UPDATE webhook_subscriptions SET deleted_at = now(), claimed_until = NULL, claim_token = NULL
                WHERE id = $3 AND \(Self.ownedSQL) RETURNING \(Self.columns)
                """, [principal.kind.rawValue, principal.id, id]).first
            else { throw PartnerError.notFound("the webhook") }
            let webhook = try Self.webhook(row)
            try AuditLog.append(
                connection, context, action: "webhook.deleted", target: ("webhook", id), scope: Self.scope(principal),
                details: ["url": .string(webhook.url)])
            return webhook
        }
    }

    /// A subscription's attempts, newest first.
    public func attempts(_ principal: Principal, webhookID: UUID, page: PageRequest) async throws -> Page<WebhookAttempt> {
        try Self.requireOwner(principal)
        let before = try page.position.map { position -> Int64 in
            guard let id = Int64(position) else { throw PartnerError.validation("cursor is not one this service returned") }
            return id
        }
        let rows = try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            guard try connection.query(
                "SELECT 1 FROM webhook_subscriptions WHERE id = $3 AND \(Self.ownedSQL)", [principal.kind.rawValue, principal.id, webhookID]
            ).first != nil else { throw PartnerError.notFound("the webhook") }
            return try connection.query("""
                SELECT id, event_id, event_type, attempt, attempted_at, duration_ms, status_code, error, outcome, next_retry_at
                FROM webhook_deliveries WHERE subscription_id = $1 AND ($2::bigint IS NULL OR id < $2)
                ORDER BY id DESC LIMIT $3
                """, [webhookID, before, page.limit + 1])
        }
        let attempts = try rows.map { row in
            WebhookAttempt(
                id: try row.decode(0), eventId: try row.decode(1), eventType: try row.decode(2), attempt: try row.decode(3),
                attemptedAt: try row.decode(4), durationMs: try row.decode(5), statusCode: try row.decode(6, as: Int?.self),
                error: try row.decode(7, as: String?.self), outcome: try row.decode(8, as: WebhookOutcome.self),
                nextRetryAt: try row.decode(9, as: Date?.self))
        }
        return page.page(attempts) { String($0.id) }
    }

    /// Deletes the attempts older than `retentionSeconds`, 10,000 per statement (the oldest
    /// first, by `webhook_deliveries_attempted`). Answers how many went.
    public static func purgeAttempts(_ client: PostgresClient, olderThanSeconds retentionSeconds: Double) async throws -> Int {
        var purged = 0
        while true {
            let deleted = try await client.withTransaction(in: .all) { connection -> Int in
                try connection.query("""
                    WITH gone AS (
                        DELETE FROM webhook_deliveries WHERE id IN (
                            SELECT id FROM webhook_deliveries WHERE attempted_at < now() - make_interval(secs => $1)
                            ORDER BY attempted_at LIMIT 10000)
                        RETURNING 1)
                    SELECT count(*)::int FROM gone
                    """, [retentionSeconds]).single().decode(0)
            }
            purged += deleted
            if deleted < 10_000 { return purged }
        }
    }

    static func scope(_ principal: Principal) -> TenantScope {
        TenantScope(distributorID: principal.distributorID, partnerID: principal.partnerID)
    }

    /// Known event types only (a typo would silently subscribe to nothing), each once.
    static func validate(_ types: [String]?) throws -> [String]? {
        guard let types else { return nil }
        guard !types.isEmpty else { throw PartnerError.validation("event_types must name at least one type, or be left out for every type") }
        guard types.allSatisfy(Outbox.EventType.all.contains) else {
            throw PartnerError.validation("event_types may name only these types: \(Outbox.EventType.all.sorted().joined(separator: ", "))")
        }
        return Array(Set(types)).sorted()
    }
}
