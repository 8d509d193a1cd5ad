import Foundation
import Postgres

/// The retention sweep (DESIGN §2, Retention): releases frozen pay-per-use resources whose
/// retention period has passed, deleting their stored data.
///
/// Work is claimed with `FOR UPDATE SKIP LOCKED` in deadline order, one batch per short
/// transaction (a single statement), so several sweepers share the queue without releasing
/// anything twice, a killed sweeper loses at most its open batch (rolled back), and an
/// unfreeze racing the sweep either wins the row (the sweeper skips it) or waits and then
/// finds it released. Before releasing, each resource whose deadline is near gets one
/// `resource.retention_expiring` event.
public struct RetentionSweep: Sendable {
    public struct Options: Sendable {
        public var batchSize: Int
        public var maxBatches: Int?
        public var dryRun: Bool
        /// How far ahead of its deadline a resource gets its expiring-soon event.
        public var warningWindow: TimeInterval

        public init(batchSize: Int = 1000, maxBatches: Int? = nil, dryRun: Bool = false, warningWindow: TimeInterval = 3 * 86_400) {
            self.batchSize = batchSize
            self.maxBatches = maxBatches
            self.dryRun = dryRun
            self.warningWindow = warningWindow
        }
    }

    /// Progress so far; the last value is the run's summary.
    public struct Report: Sendable, Codable, Equatable {
        public var dryRun: Bool
        public var batches = 0
        public var released = 0
        public var warned = 0
        /// Resources due now (counted by a dry run; what a real run found left is 0 when done).
        public var due = 0
        public var seconds = 0.0
        public var longestBatchSeconds = 0.0
        /// Whether the run stopped early (max batches or a stop request) with work left.
        public var stoppedEarly = false

        public var rowsPerSecond: Double { seconds > 0 ? Double(released) / seconds : 0 }
    }

    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let warnSQL = """
        WITH soon AS (
            SELECT customer_id, id FROM resources
            WHERE state = 'frozen' AND retention_warned_at IS NULL
              AND retention_until > now() AND retention_until <= now() + make_interval(secs => $2)
            ORDER BY retention_until
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        ), warned AS (
            UPDATE resources r SET retention_warned_at = now()
            FROM soon WHERE r.customer_id = soon.customer_id AND r.id = soon.id
            RETURNING r.customer_id, r.id, r.retention_until
        ), events AS (
            INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data)
            SELECT 'resource.retention_expiring', p.distributor_id, c.partner_id, w.customer_id,
                   jsonb_build_object('resource_ids', jsonb_agg(w.id ORDER BY w.id), 'retention_until', min(w.retention_until))
            FROM warned w JOIN customers c ON c.id = w.customer_id JOIN partners p ON p.id = c.partner_id
            GROUP BY p.distributor_id, c.partner_id, w.customer_id
        )
        SELECT count(*) FROM warned
        """

    /// Public so that Scripts/bench can run the very same statement through psql.
    public static let releaseSQL = """
        WITH due AS (
            SELECT customer_id, id FROM resources
            WHERE state = 'frozen' AND retention_until <= now()
            ORDER BY retention_until
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        ), erased AS (
            DELETE FROM resource_data d USING due WHERE d.customer_id = due.customer_id AND d.resource_id = due.id
        ), released AS (
            UPDATE resources r SET state = 'released', released_at = now(), updated_at = now()
            FROM due WHERE r.customer_id = due.customer_id AND r.id = due.id
            RETURNING r.customer_id, r.id, r.restriction_id, r.retention_until
        ), scoped AS (
            SELECT rel.customer_id, rel.id, rel.restriction_id, rel.retention_until, c.partner_id, p.distributor_id
            FROM released rel JOIN customers c ON c.id = rel.customer_id JOIN partners p ON p.id = c.partner_id
        ), audit AS (
            INSERT INTO audit_events (actor_kind, action, target_kind, target_id, distributor_id, partner_id, customer_id, details)
            SELECT 'system', 'resource.released', 'resource', id, distributor_id, partner_id, customer_id,
                   jsonb_build_object('restriction_id', restriction_id, 'retention_until', retention_until)
            FROM scoped
        ), events AS (
            INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data)
            SELECT 'resource.released', distributor_id, partner_id, customer_id,
                   jsonb_build_object('resource_ids', jsonb_agg(id ORDER BY id), 'restriction_id', restriction_id)
            FROM scoped GROUP BY distributor_id, partner_id, customer_id, restriction_id
        )
        SELECT count(*) FROM scoped
        """

    static let countSQL = """
        SELECT count(*) FILTER (WHERE retention_until <= now()),
               count(*) FILTER (WHERE retention_warned_at IS NULL AND retention_until > now()
                                  AND retention_until <= now() + make_interval(secs => $1))
        FROM resources WHERE state = 'frozen'
        """

    /// Runs until nothing is due, `maxBatches` is reached, or `shouldStop` says so (checked
    /// between batches: a stop request finishes the current batch). `progress` is called
    /// after every batch.
    public func run(
        _ options: Options,
        shouldStop: @Sendable () -> Bool = { false },
        progress: (Report) -> Void = { _ in }
    ) async throws -> Report {
        guard (1...100_000).contains(options.batchSize) else {
            throw PartnerError.validation("the batch size must be between 1 and 100000")
        }
        let clock = ContinuousClock()
        let start = clock.now
        var report = Report(dryRun: options.dryRun)
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        if options.dryRun {
            let row = try await client.query(Self.countSQL, [options.warningWindow]).single()
            report.due = try row.decode(0)
            report.warned = try row.decode(1)
            report.seconds = seconds(clock.now - start)
            progress(report)
            return report
        }
        var warningsDone = false
        while true {
            if let maxBatches = options.maxBatches, report.batches >= maxBatches {
                report.stoppedEarly = true
                break
            }
            if shouldStop() {
                report.stoppedEarly = true
                break
            }
            let batchStart = clock.now
            if !warningsDone {
                let warned: Int = try await client.query(Self.warnSQL, [options.batchSize, options.warningWindow]).single().decode(0)
                report.warned += warned
                warningsDone = warned < options.batchSize
                if warned == 0 { continue }
            } else {
                let released: Int = try await client.query(Self.releaseSQL, [options.batchSize]).single().decode(0)
                if released == 0 { break }
                report.released += released
            }
            report.batches += 1
            report.longestBatchSeconds = max(report.longestBatchSeconds, seconds(clock.now - batchStart))
            report.seconds = seconds(clock.now - start)
            progress(report)
        }
        report.seconds = seconds(clock.now - start)
        return report
    }
}
