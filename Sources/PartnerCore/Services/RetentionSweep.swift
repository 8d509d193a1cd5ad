import Foundation
import Postgres

/// The retention sweep (DESIGN §2, Retention): releases frozen pay-per-use resources whose
/// retention period has passed, deleting their stored data.
///
/// Work is claimed one customer at a time: every statement names one `customer_id`, so on
/// Citus each batch is a single-shard transaction and no claim locks rows on several nodes
/// (DESIGN §8). A batch claims up to `batchSize` of that customer's due resources with
/// `FOR UPDATE SKIP LOCKED` in deadline order and is one short transaction (a single
/// statement), so several sweepers share the queue without releasing anything twice, a
/// killed sweeper loses at most its open batch (rolled back), and an unfreeze racing the
/// sweep either wins the row (the sweeper skips it) or waits and then finds it released.
/// Which customers have work comes from a plain read, oldest deadline first, a thousand at
/// a time. Before releasing, each resource whose deadline is near gets one
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
        /// Idempotency records (and batch outcomes) older than a day that the run deleted.
        public var idempotencyRecordsPurged = 0

        public var rowsPerSecond: Double { seconds > 0 ? Double(released) / seconds : 0 }
    }

    let client: PostgresClient
    /// How many customers with work one read lists (memory stays flat whatever their number).
    static let customersPerPass = 1000

    public init(client: PostgresClient) { self.client = client }

    /// Customers with resources due for release, oldest deadline first, `$1` at a time.
    static let dueCustomersSQL = """
        SELECT customer_id FROM resources
        WHERE state = 'frozen' AND retention_until <= now()
        GROUP BY customer_id ORDER BY min(retention_until) LIMIT $1
        """

    /// Customers with resources due within the warning window `$2` and not warned yet.
    static let expiringCustomersSQL = """
        SELECT customer_id FROM resources
        WHERE state = 'frozen' AND retention_warned_at IS NULL
          AND retention_until > now() AND retention_until <= now() + make_interval(secs => $2)
        GROUP BY customer_id ORDER BY min(retention_until) LIMIT $1
        """

    /// One customer's batch of expiring-soon events (`warn_retention_batch`, schema 0010):
    /// `$1` the customer, `$2` the batch size, `$3` the warning window in seconds.
    static let warnSQL = "SELECT warn_retention_batch($1, $2::integer, $3)"

    /// One customer's batch of releases (`release_retention_batch`, schema 0010): `$1` the
    /// customer, `$2` the batch size. Public so that Scripts/bench can run the very same
    /// statement through psql.
    public static let releaseSQL = "SELECT release_retention_batch($1, $2::integer)"

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
            let row = try await client.withTransaction(in: .all, readOnly: true) { connection in
                try connection.query(Self.countSQL, [options.warningWindow]).single()
            }
            report.due = try row.decode(0)
            report.warned = try row.decode(1)
            report.seconds = seconds(clock.now - start)
            progress(report)
            return report
        }
        // Warnings first, then releases: each phase goes customer by customer, batch by
        // batch, until a whole pass over the customers with work finds nothing it can claim
        // (what is left is locked by another sweeper, which will finish it).
        let phases: [(window: Double?, customers: String, batch: String)] = [
            (options.warningWindow, Self.expiringCustomersSQL, Self.warnSQL), (nil, Self.dueCustomersSQL, Self.releaseSQL),
        ]
        phases: for phase in phases {
            while true {
                let listing: [(any PostgresEncodable)?] = phase.window.map { [Self.customersPerPass, $0] } ?? [Self.customersPerPass]
                // The sweep's explicit path to every tenant: it lists customers with work; each
                // batch function then names its one customer.
                let customers = try await client.withTransaction(in: .all, readOnly: true) { connection in
                    try connection.query(phase.customers, listing).map { try $0.decode(0, as: UUID.self) }
                }
                var progressed = false
                for customer in customers {
                    while true {
                        if let maxBatches = options.maxBatches, report.batches >= maxBatches { report.stoppedEarly = true }
                        if shouldStop() { report.stoppedEarly = true }
                        if report.stoppedEarly { break phases }
                        let batchStart = clock.now
                        let parameters: [(any PostgresEncodable)?] = phase.window.map { [customer, options.batchSize, $0] }
                            ?? [customer, options.batchSize]
                        let done: Int = try await client.query(phase.batch, parameters).single().decode(0)
                        guard done > 0 else { break }
                        if phase.window == nil { report.released += done } else { report.warned += done }
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
        report.seconds = seconds(clock.now - start)
        return report
    }
}
