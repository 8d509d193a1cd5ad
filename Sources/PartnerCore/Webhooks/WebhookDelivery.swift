import Foundation
import Logging
import Metrics
import Postgres

/// Sends every subscription its events (DESIGN §11), in feed order, at least once.
///
/// A worker claims one due subscription at a time (`claimSQL`: FOR UPDATE SKIP LOCKED, then
/// a lease), reads the owner's next events with the feed's own statement (`Outbox.read`,
/// in the owner's tenant), and POSTs them one by one, signed. Each attempt is written with
/// the subscription's progress in one statement that names the claim: a 2xx moves the
/// position past the event; a failure keeps it and sets the next attempt after a backoff
/// (1 s doubling, capped at 1 h) and ends the batch, since a later event may not overtake
/// it; 24 h after its first failure the event is marked failed, the position moves on, and
/// the subscription goes on with the next event. A worker that dies mid-batch leaves a
/// lease that runs out; the next worker resends from the stored position, so a receiver
/// may see an event twice (never out of order), and dedups by `PartnerCenter-Event-Id`.
public struct WebhookDelivery: Sendable {
    public struct Policy: Sendable {
        public var firstRetrySeconds: Double = 1
        public var maximumRetrySeconds: Double = 3600
        public var giveUpSeconds: Double = 86_400
        /// For one POST, connection included.
        public var timeoutSeconds: Double = 10
        /// Events read per claim.
        public var batch = 20
        /// How long a claim lasts (how long a subscription waits when its worker died); a
        /// batch stops sending while there is still time for one more POST in it.
        public var leaseSeconds: Double = 60
        /// How soon a caught-up subscription is read again.
        public var pollSeconds: Double = 1

        public init() {}

        /// The wait before the attempt after `attempts` failed ones.
        func retryDelay(afterAttempts attempts: Int) -> Double {
            min(firstRetrySeconds * pow(2, Double(max(attempts, 1) - 1)), maximumRetrySeconds)
        }
    }

    /// What a run did.
    public struct Report: Sendable, Equatable, Codable {
        public var subscriptions = 0
        public var delivered = 0
        public var retrying = 0
        public var failed = 0

        public init() {}

        mutating func add(_ other: Report) {
            subscriptions += other.subscriptions
            delivered += other.delivered
            retrying += other.retrying
            failed += other.failed
        }
    }

    let client: PostgresClient
    let key: WebhookSecretKey
    let policy: Policy
    let production: Bool
    /// An event's body: the JSON object the feed shows for it (the API layer's encoder).
    let render: @Sendable (OutboxEvent) throws -> [UInt8]
    let logger: Logger

    public init(
        client: PostgresClient, key: WebhookSecretKey, policy: Policy = Policy(), production: Bool, logger: Logger,
        render: @escaping @Sendable (OutboxEvent) throws -> [UInt8]
    ) {
        self.client = client
        self.key = key
        self.policy = policy
        self.production = production
        self.logger = logger
        self.render = render
    }

    /// A claimed subscription, with its secret opened.
    struct Claim: Sendable {
        var id: UUID
        var token: UUID
        var owner: Principal
        var url: String
        var eventTypes: [String]?
        var secret: String
        var position: (txid: String, id: Int64)
        var attempts: Int
        var firstFailedAt: Date?
    }

    /// The most due subscription nobody holds, leased to this worker.
    static let claimSQL = """
        UPDATE webhook_subscriptions s SET claimed_until = now() + make_interval(secs => $1), claim_token = $2
        WHERE s.id = (
            SELECT id FROM webhook_subscriptions
            WHERE deleted_at IS NULL AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
            ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING s.id, s.owner_kind, s.distributor_id, s.partner_id, s.url, s.event_types, s.secret_sealed,
                  s.position_txid::text, s.position_id, s.attempts, s.first_failed_at
        """

    /// One attempt and the progress it makes, in one statement that holds only while the
    /// claim does (and the subscription is not deleted): no row back, the batch ends.
    static let attemptSQL = """
        WITH progress AS (
            UPDATE webhook_subscriptions
            SET position_txid = $3::text::xid8, position_id = $4, attempts = $5, first_failed_at = $6,
                next_attempt_at = coalesce($7, next_attempt_at), pending_since = $8,
                claimed_until = CASE WHEN $7 IS NULL THEN claimed_until END,
                claim_token = CASE WHEN $7 IS NULL THEN claim_token END
            WHERE id = $1 AND claim_token = $2 AND deleted_at IS NULL
            RETURNING distributor_id, partner_id)
        INSERT INTO webhook_deliveries
            (subscription_id, distributor_id, partner_id, event_id, event_type, attempt, duration_ms, status_code, error, outcome, next_retry_at)
        SELECT $1, distributor_id, partner_id, $9, $10, $11, $12, $13, $14, $15, $7 FROM progress
        RETURNING id
        """

    /// The end of a batch: the lease given back and when to look again.
    static let releaseSQL = """
        UPDATE webhook_subscriptions
        SET claimed_until = NULL, claim_token = NULL, next_attempt_at = now() + make_interval(secs => $3), pending_since = $4
        WHERE id = $1 AND claim_token = $2
        """

    /// Claims due subscriptions one after another and sends each its batch, until none is
    /// due (or `limit` batches): `partner-center deliver-webhooks --once`, and tests.
    public func runOnce(limit: Int = .max) async throws -> Report {
        var report = Report()
        while report.subscriptions < limit, let one = try await deliverNext() {
            report.add(one)
        }
        return report
    }

    /// Claims one due subscription and sends its next events; nil when none is due.
    /// `stopping` is asked before each event: when it answers true (a graceful shutdown) the
    /// batch ends there and the claim is given back.
    public func deliverNext(stopping: @Sendable () -> Bool = { false }) async throws -> Report? {
        guard let claim = try await claim() else { return nil }
        var report = Report()
        report.subscriptions = 1
        do {
            try await deliver(claim, &report, stopping: stopping)
        } catch {
            // The lease runs out by itself; the next claim resends from the stored position.
            logger.error("webhook batch stopped", metadata: ["webhook": "\(claim.id.lowercasedString)", "error": "\(error)"])
            throw error
        }
        return report
    }

    func claim() async throws -> Claim? {
        let token = UUID.random()
        return try await client.withTransaction(in: .all) { connection -> Claim? in
            guard let row = try connection.query(Self.claimSQL, [policy.leaseSeconds, token]).first else { return nil }
            let id: UUID = try row.decode(0)
            let kind = try row.decode(1, as: Principal.Kind.self)
            let distributor: DistributorID = try row.decode(2)
            let partner: PartnerID? = try row.decode(3)
            let owner = Principal(
                kind: kind, id: kind == .partner ? partner?.uuid ?? distributor.uuid : distributor.uuid, distributorID: distributor,
                partnerID: partner)
            return Claim(
                id: id, token: token, owner: owner, url: try row.decode(4), eventTypes: try row.decode(5, as: [String]?.self),
                secret: try key.open(try row.decode(6), subscription: id, connection), position: (try row.decode(7), try row.decode(8)),
                attempts: try row.decode(9), firstFailedAt: try row.decode(10, as: Date?.self))
        }
    }

    func deliver(_ claim: Claim, _ report: inout Report, stopping: @Sendable () -> Bool) async throws {
        let leaseEnds = ContinuousClock.now + .milliseconds(Int64(max(policy.leaseSeconds - policy.timeoutSeconds - 5, 1) * 1000))
        let owner = claim.owner
        let events = try await client.withTransaction(in: Access.tenant(of: owner), readOnly: true) { [claim] connection in
            try Outbox.read(owner, after: claim.position, types: claim.eventTypes, limit: policy.batch, connection)
        }
        var position = claim.position
        var attempts = claim.attempts
        var sent = 0
        var firstFailedAt = claim.firstFailedAt
        for (index, item) in events.enumerated() {
            guard ContinuousClock.now < leaseEnds, !stopping() else { break }
            let event = item.event
            let answer = await post(event, claim)
            attempts += 1
            let now = Date()
            let outcome: WebhookOutcome
            var nextRetry: Date?
            if answer.isSuccess {
                outcome = .delivered
            } else if now.timeIntervalSince(firstFailedAt ?? now) >= policy.giveUpSeconds {
                outcome = .failed
            } else {
                outcome = .retrying
                firstFailedAt = firstFailedAt ?? now
                nextRetry = now.addingTimeInterval(policy.retryDelay(afterAttempts: attempts))
            }
            let attempt = attempts
            if outcome != .retrying {
                let parts = item.position.split(separator: ":")
                position = (String(parts[0]), Int64(parts[1]) ?? event.id)
                attempts = 0
                firstFailedAt = nil
            }
            // The oldest event still to send: this one while it is retried, else the next.
            let pending = outcome == .retrying ? event.occurredAt
                : (index + 1 < events.count ? events[index + 1].event.occurredAt : nil)
            let recorded = try await client.withTransaction(in: .all) { [position, attempts, firstFailedAt, nextRetry] connection in
                try connection.query(Self.attemptSQL, [
                    claim.id, claim.token, position.txid, position.id, attempts, firstFailedAt, nextRetry, pending,
                    event.id, event.type, attempt, answer.milliseconds, answer.status, answer.error, outcome.rawValue,
                ]).first != nil
            }
            WebhookMetrics.attempt(outcome)
            switch outcome {
            case .delivered: report.delivered += 1
            case .failed: report.failed += 1
            case .retrying: report.retrying += 1
            }
            if outcome == .failed {
                logger.warning("webhook event given up", metadata: [
                    "webhook": "\(claim.id.lowercasedString)", "event_id": "\(event.id)", "attempts": "\(attempt)",
                ])
            }
            // Retrying released the claim in the same statement; a lost claim ends the batch.
            guard recorded, outcome != .retrying else { return }
            sent += 1
        }
        // Caught up when the batch was not full and all of it went: look again after the poll
        // interval. A batch cut short (the lease, a shutdown) is due again at once.
        let caughtUp = events.count < policy.batch && sent == events.count
        // Not caught up: the oldest event still waiting is the first not sent; after a full
        // batch it is unread, and the last one sent stands in for it (the lag errs long).
        let waiting = caughtUp ? nil : (sent < events.count ? events[sent] : events.last)?.event.occurredAt
        _ = try await client.withTransaction(in: .all) { connection in
            try connection.execute(Self.releaseSQL, [claim.id, claim.token, caughtUp ? policy.pollSeconds : 0, waiting])
        }
    }

    /// One signed POST of one event. A URL production no longer accepts is an attempt that
    /// failed without a request.
    func post(_ event: OutboxEvent, _ claim: Claim) async -> WebhookHTTP.Answer {
        let url: URL
        let body: [UInt8]
        do {
            url = try WebhookURL.validate(claim.url, production: production)
            body = try render(event)
        } catch let error as PartnerError {
            return WebhookHTTP.Answer(status: nil, error: "not sent: \(error.message)", milliseconds: 0)
        } catch {
            return WebhookHTTP.Answer(status: nil, error: "not sent: the event could not be encoded", milliseconds: 0)
        }
        let timestamp = Int(Date().timeIntervalSince1970)
        return await WebhookHTTP.post(url, body: body, headers: [
            (WebhookSignature.eventIDHeader, String(event.id)),
            ("PartnerCenter-Event-Type", event.type),
            (WebhookSignature.header, WebhookSignature.sign(body: body, secret: claim.secret, timestamp: timestamp)),
        ], timeout: policy.timeoutSeconds)
    }

    /// Seconds between the newest event and the oldest one a subscription still waits for
    /// (0 when every subscription is caught up), recorded as the outbox lag gauge.
    @discardableResult
    public func measureLag() async throws -> Double {
        let seconds = try await client.withTransaction(in: .all, readOnly: true) { connection -> Double in
            try connection.query("""
                SELECT coalesce(greatest(extract(epoch FROM (SELECT max(occurred_at) FROM outbox_events) - min(pending_since)), 0), 0)::float8
                FROM webhook_subscriptions WHERE deleted_at IS NULL
                """).single().decode(0)
        }
        WebhookMetrics.lag(seconds)
        return seconds
    }
}

/// The delivery counters and the lag gauge (DESIGN §11), made per use like the domain's.
enum WebhookMetrics {
    static func attempt(_ outcome: WebhookOutcome) {
        Counter(label: "partner_center_webhook_deliveries_total", dimensions: [("outcome", outcome.rawValue)]).increment()
    }

    static func lag(_ seconds: Double) {
        Gauge(label: "partner_center_outbox_lag_seconds").record(seconds)
    }
}
