import Foundation
import Postgres

/// The retention sweep: the batch job that moves resources through their lifecycle (DESIGN
/// §2 Retention, §9) and lifts restrictions whose scheduled lift has come.
///
/// In order, each until nothing is left that it can claim: scheduled lifts; warnings ahead
/// of expiry (`resource.expiring`); expiry of prepaid resources past `expires_at`
/// (`resource.expired`); warnings ahead of the end of grace (`resource.grace_expiring`); the
/// freeze of expired resources past `grace_until` (`resources.frozen`, reason `expired`);
/// warnings ahead of release (`resource.retention_expiring`); the release of frozen
/// resources past `retention_until`, deleting their data (`resource.released`). Lifts come
/// first, so a run that starts late never deletes data whose restriction was due to be
/// lifted; transitions run in lifecycle order, so a resource long overdue moves all the way
/// in one run.
///
/// Work is claimed one customer at a time: every statement names one `customer_id`, so on
/// Citus each batch is a single-shard transaction and no claim locks rows on several nodes
/// (DESIGN §8). A batch claims up to `batchSize` of that customer's due resources with
/// `FOR UPDATE SKIP LOCKED` in deadline order and is one short transaction (a single
/// statement), so several sweepers share the queue without acting twice, a killed sweeper
/// loses at most its open batch (rolled back), and an unfreeze or a renewal racing the
/// sweep either wins the row (the sweeper skips it) or waits and then sees what the batch
/// committed. Which customers have work comes from a plain read, oldest deadline first, a
/// thousand at a time, over a partial index on the deadline (schema 0014), so it reads the
/// due rows, not the table.
public struct RetentionSweep: Sendable {
    public struct Options: Sendable {
        public var batchSize: Int
        public var maxBatches: Int?
        public var dryRun: Bool
        /// How far ahead of its deadline a resource gets its warning event.
        public var warningWindow: TimeInterval
        /// How long integration events are kept (DESIGN §11).
        public var outboxRetention: TimeInterval

        public init(
            batchSize: Int = 1000, maxBatches: Int? = nil, dryRun: Bool = false, warningWindow: TimeInterval = 3 * 86_400,
            outboxRetention: TimeInterval = Outbox.defaultRetentionSeconds
        ) {
            self.batchSize = batchSize
            self.maxBatches = maxBatches
            self.dryRun = dryRun
            self.warningWindow = warningWindow
            self.outboxRetention = outboxRetention
        }
    }

    /// Progress so far; the last value is the run's summary. A dry run fills the `due…`
    /// counts and `warned` (what is due now) and changes nothing.
    public struct Report: Sendable, Codable, Equatable {
        public var dryRun: Bool
        public var batches = 0
        public var released = 0
        /// Warning events' resources, all three kinds.
        public var warned = 0
        /// Prepaid resources that expired (entered their grace period).
        public var expired = 0
        /// Prepaid resources frozen at the end of their grace period.
        public var frozen = 0
        /// Restrictions lifted at their scheduled time.
        public var lifted = 0
        /// Resources due for release now (counted by a dry run; what a real run found left is 0 when done).
        public var due = 0
        public var dueExpiries = 0
        public var dueFreezes = 0
        public var dueLifts = 0
        public var seconds = 0.0
        public var longestBatchSeconds = 0.0
        /// Whether the run stopped early (max batches or a stop request) with work left.
        public var stoppedEarly = false
        /// Idempotency records (and batch outcomes) older than a day that the run deleted.
        public var idempotencyRecordsPurged = 0
        /// Integration events older than the outbox retention that the run deleted.
        public var outboxEventsPurged = 0
        /// Webhook delivery attempts older than the outbox retention that the run deleted.
        public var webhookAttemptsPurged = 0
        /// What was due when a real run started: lifts, expiries, freezes and releases (the
        /// dry run's counts). A long-overdue resource that goes through several steps in the
        /// run counts once here and once per step in `done`.
        public var totalDue = 0

        /// Lifts and transitions done so far.
        public var done: Int { lifted + transitions }

        /// Resources whose state changed: expired, frozen for expiry, released.
        public var transitions: Int { expired + frozen + released }
        public var rowsPerSecond: Double { seconds > 0 ? Double(transitions) / seconds : 0 }
    }

    /// One step of the lifecycle: the rows waiting for it, their deadline, the column that
    /// records their warning, and one customer's batch of warnings and of the step itself.
    /// The listings and the dry run's counts are derived from it, so they cannot drift from
    /// each other; each reads the step's partial index on its deadline (schema 0014).
    struct Step: Sendable {
        var rows: String
        var deadline: String
        var warned: String
        /// `$1` the customer, `$2` the batch size, `$3` the warning window in seconds.
        var warnBatch: String
        /// `$1` the customer, `$2` the batch size.
        var batch: String
        var counts: Count

        enum Count: Sendable { case expired, frozen, released }

        /// Rows past their deadline.
        var due: String { "\(rows) AND \(deadline) <= now()" }

        /// Rows not warned yet whose deadline is within the window named by `window`.
        func warning(window: String) -> String {
            "\(rows) AND \(warned) IS NULL AND \(deadline) > now() AND \(deadline) <= now() + make_interval(secs => \(window))"
        }

        /// Customers with rows matching `condition`, oldest deadline first, `$1` at a time.
        func customers(_ condition: String) -> String {
            "SELECT customer_id FROM resources WHERE \(condition) GROUP BY customer_id ORDER BY min(\(deadline)) LIMIT $1"
        }
    }

    let client: PostgresClient
    /// How many customers with work one read lists (memory stays flat whatever their number).
    static let customersPerPass = 1000

    public init(client: PostgresClient) { self.client = client }

    /// One customer's batch of expiring-soon events (`warn_retention_batch`, schema 0010).
    static let warnSQL = "SELECT warn_retention_batch($1, $2::integer, $3)"

    /// One customer's batch of releases (`release_retention_batch`, schemas 0010 and 0014):
    /// `$1` the customer, `$2` the batch size. Public so that Scripts/bench can run the very
    /// same statement through psql.
    public static let releaseSQL = "SELECT release_retention_batch($1, $2::integer)"

    /// One customer's batch of expiries and of freezes at the end of grace (schema 0014).
    public static let expireSQL = "SELECT expire_prepaid_batch($1, $2::integer)"
    public static let freezeExpiredSQL = "SELECT freeze_expired_batch($1, $2::integer)"

    /// The steps in the order a run does them, each preceded by its warnings.
    static let steps: [Step] = [
        Step(rows: "state = 'active' AND expires_at IS NOT NULL", deadline: "expires_at", warned: "expiry_warned_at",
             warnBatch: "SELECT warn_prepaid_batch($1, 'expiry', $2::integer, $3)", batch: expireSQL, counts: .expired),
        Step(rows: "state = 'expired'", deadline: "grace_until", warned: "expiry_warned_at",
             warnBatch: "SELECT warn_prepaid_batch($1, 'grace', $2::integer, $3)", batch: freezeExpiredSQL, counts: .frozen),
        Step(rows: "state = 'frozen'", deadline: "retention_until", warned: "retention_warned_at",
             warnBatch: warnSQL, batch: releaseSQL, counts: .released),
    ]

    /// What a dry run reports, `$1` the warning window in seconds: releases due, warnings
    /// due (all steps), expiries due, freezes due, scheduled lifts due.
    static let countSQL: String = {
        func count(_ condition: String) -> String { "(SELECT count(*) FROM resources WHERE \(condition))" }
        let warnings = steps.map { count($0.warning(window: "$1")) }.joined(separator: " + ")
        return "SELECT \(count(steps[2].due)), \(warnings), \(count(steps[0].due)), \(count(steps[1].due)), (\(ScheduledLifts.countSQL))"
    }()

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
        let row = try await client.withTransaction(in: .all, readOnly: true) { connection in
            try connection.query(Self.countSQL, [options.warningWindow]).single()
        }
        if options.dryRun {
            report.due = try row.decode(0)
            report.warned = try row.decode(1)
            report.dueExpiries = try row.decode(2)
            report.dueFreezes = try row.decode(3)
            report.dueLifts = try row.decode(4)
            report.seconds = seconds(clock.now - start)
            progress(report)
            return report
        }
        // The total a progress report measures against.
        report.totalDue = try row.decode(0, as: Int.self) + row.decode(2, as: Int.self) + row.decode(3, as: Int.self)
            + row.decode(4, as: Int.self)
        progress(report)
        func mayGoOn() -> Bool {
            if let maxBatches = options.maxBatches, report.batches >= maxBatches { report.stoppedEarly = true }
            if shouldStop() { report.stoppedEarly = true }
            return !report.stoppedEarly
        }
        // Scheduled lifts, each its own transaction (counted as a batch).
        let lifts = ScheduledLifts(client: client)
        lifting: while true {
            let due = try await lifts.due(limit: Self.customersPerPass)
            var progressed = false
            for restriction in due {
                guard mayGoOn() else { break lifting }
                let batchStart = clock.now
                guard try await lifts.lift(customerID: restriction.customerID, restrictionID: restriction.restrictionID) else { continue }
                report.lifted += 1
                report.batches += 1
                report.longestBatchSeconds = max(report.longestBatchSeconds, seconds(clock.now - batchStart))
                report.seconds = seconds(clock.now - start)
                progress(report)
                progressed = true
            }
            if !progressed { break }
        }
        // Each phase goes customer by customer, batch by batch, until a whole pass over the
        // customers with work finds nothing it can claim (what is left is locked by another
        // sweeper, which will finish it).
        phases: for (step, warns) in report.stoppedEarly ? [] : Self.steps.flatMap({ [($0, true), ($0, false)] }) {
            while true {
                let listing: [(any PostgresEncodable)?] = warns
                    ? [Self.customersPerPass, options.warningWindow] : [Self.customersPerPass]
                let listingSQL = step.customers(warns ? step.warning(window: "$2") : step.due)
                // The sweep's explicit path to every tenant: it lists customers with work; each
                // batch function then names its one customer.
                let customers = try await client.withTransaction(in: .all, readOnly: true) { connection in
                    try connection.query(listingSQL, listing).map { try $0.decode(0, as: CustomerID.self) }
                }
                var progressed = false
                for customer in customers {
                    while true {
                        guard mayGoOn() else { break phases }
                        let batchStart = clock.now
                        let parameters: [(any PostgresEncodable)?] = warns
                            ? [customer, options.batchSize, options.warningWindow] : [customer, options.batchSize]
                        let done: Int = try await client.query(warns ? step.warnBatch : step.batch, parameters).single().decode(0)
                        guard done > 0 else { break }
                        switch (warns, step.counts) {
                        case (true, _): report.warned += done
                        case (false, .expired): report.expired += done
                        case (false, .frozen): report.frozen += done
                        case (false, .released): report.released += done
                        }
                        report.batches += 1
                        report.longestBatchSeconds = max(report.longestBatchSeconds, seconds(clock.now - batchStart))
                        report.seconds = seconds(clock.now - start)
                        progress(report)
                        progressed = true
                        if done < options.batchSize { break }
                    }
                }
                if !progressed { break }
            }
        }
        // Stored answers are replayed for a day (DESIGN §4 idempotency); then they go.
        report.idempotencyRecordsPurged = try await Idempotency.purge(client)
        // Integration events are kept for the outbox retention (DESIGN §11); then they go.
        report.outboxEventsPurged = try await Outbox.purge(client, olderThanSeconds: options.outboxRetention)
        // Webhook attempts are kept as long as the events they sent.
        report.webhookAttemptsPurged = try await Webhooks.purgeAttempts(client, olderThanSeconds: options.outboxRetention)
        report.seconds = seconds(clock.now - start)
        return report
    }
}
