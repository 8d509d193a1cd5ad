import ArgumentParser
import Foundation
import Logging
import PartnerCore
import Postgres

/// `partner-center retention-sweep`: the cron job that releases resources whose retention
/// period has passed. Progress goes to stderr, the summary to stdout (`--json` for scripts).
struct RetentionSweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention-sweep",
        abstract: "Move resources through their lifecycle: scheduled lifts, prepaid expiry and grace, release after retention.",
        discussion: """
            Safe to run from several hosts at once and to kill at any point: each batch is one \
            short transaction, claimed with SKIP LOCKED. SIGTERM or SIGINT finish the current \
            batch and exit. Exit status 0 when done, 1 on failure.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Resources moved per transaction.")
    var batchSize = 1000

    @Option(help: "Stop after this many batches (the next run continues).")
    var maxBatches: Int?

    @Flag(help: "Report what is due and change nothing.")
    var dryRun = false

    @Option(help: "Seconds before its deadline that a resource gets its expiring-soon event.")
    var warningWindow: Int = 3 * 86_400

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Option(help: "Seconds between progress lines on stderr.")
    var progressInterval = 5.0

    @Option(help: "Days integration events are kept (default: $OUTBOX_RETENTION_DAYS or 30).")
    var outboxRetentionDays: Int?

    @Flag(help: ArgumentHelp(
        "Print one customer's batch release statement for psql (variable customer_id) and exit (Scripts/bench's baseline).", visibility: .hidden))
    var printBatchSQL = false

    @Option(help: ArgumentHelp(
        "Print one customer's batch statement of a transition (expire, freeze-expired or release) for psql and exit (Scripts/bench's baseline).",
        visibility: .hidden))
    var printTransitionSQL: String?

    @Option(help: "Also write the summary in Prometheus text format to this file (node_exporter textfile collector).")
    var textfile: String?

    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 100000") }
        if let maxBatches, maxBatches < 1 { throw ValidationError("--max-batches must be at least 1") }
        guard warningWindow >= 0 else { throw ValidationError("--warning-window must not be negative") }
        guard progressInterval > 0 else { throw ValidationError("--progress-interval must be positive") }
        guard (1...3650).contains(try outboxRetention()) else { throw ValidationError("the outbox retention must be 1 to 3650 days") }
    }

    /// The outbox retention in days, from the flag or the environment.
    func outboxRetention() throws -> Int {
        if let outboxRetentionDays { return outboxRetentionDays }
        return try ProcessInfo.processInfo.environment.wholeNumber("OUTBOX_RETENTION_DAYS") ?? 30
    }

    func run() async throws {
        if printBatchSQL || printTransitionSQL != nil {
            guard let statement = BaselineSQL.sweepBatch(printTransitionSQL ?? "release", batchSize: batchSize) else {
                throw ValidationError("--print-transition-sql takes expire, freeze-expired or release")
            }
            print(statement)
            return
        }
        let logger = Logger(label: "retention-sweep")
        let options = RetentionSweep.Options(
            batchSize: batchSize, maxBatches: maxBatches, dryRun: dryRun, warningWindow: TimeInterval(warningWindow),
            outboxRetention: TimeInterval(try outboxRetention() * 86_400))
        let interval = Duration.milliseconds(Int64(progressInterval * 1000))
        let sweep = BatchRun(command: "retention-sweep")
        let report = try await sweep.run(database, logger: logger, stoppable: true) { client, shouldStop in
            var printer = ProgressPrinter(interval: interval)
            return try await RetentionSweep(client: client).run(options, shouldStop: shouldStop) { progress in
                printer.consider(progress)
            }
        }
        // A dry run changed nothing: the textfile (and its last success) stays as the last
        // real run left it.
        if let textfile, !report.dryRun { try Self.writeTextfile(report, to: textfile) }
        if json {
            try BatchRun.printJSON(report)
        } else if report.dryRun {
            print(
                "dry run: \(report.dueLifts) scheduled lifts due, \(report.dueExpiries) prepaid resources due to expire, "
                    + "\(report.dueFreezes) due to be frozen at the end of grace, \(report.due) due for release, "
                    + "\(report.warned) due a warning event; nothing changed")
        } else {
            print(String(
                format: "lifted %d restrictions; expired %d, froze %d and released %d resources in %d batches (%.0f rows/s, longest batch %.3f s); %d warning events, %d idempotency records purged%@",
                report.lifted, report.expired, report.frozen, report.released, report.batches, report.rowsPerSecond,
                report.longestBatchSeconds, report.warned, report.idempotencyRecordsPurged,
                report.stoppedEarly ? "; stopped early, work may remain" : ""))
        }
    }

    static func writeTextfile(_ report: RetentionSweep.Report, to path: String) throws {
        let text = """
            # HELP partner_center_sweep_released_resources Resources released by the last retention sweep.
            # TYPE partner_center_sweep_released_resources gauge
            partner_center_sweep_released_resources \(report.released)
            # HELP partner_center_sweep_warned_resources Expiring-soon events emitted by the last retention sweep.
            # TYPE partner_center_sweep_warned_resources gauge
            partner_center_sweep_warned_resources \(report.warned)
            # HELP partner_center_sweep_expired_resources Prepaid resources expired by the last retention sweep.
            # TYPE partner_center_sweep_expired_resources gauge
            partner_center_sweep_expired_resources \(report.expired)
            # HELP partner_center_sweep_frozen_resources Prepaid resources frozen at the end of grace by the last retention sweep.
            # TYPE partner_center_sweep_frozen_resources gauge
            partner_center_sweep_frozen_resources \(report.frozen)
            # HELP partner_center_sweep_lifted_restrictions Restrictions lifted at their scheduled time by the last retention sweep.
            # TYPE partner_center_sweep_lifted_restrictions gauge
            partner_center_sweep_lifted_restrictions \(report.lifted)
            # HELP partner_center_sweep_batches Batches run by the last retention sweep.
            # TYPE partner_center_sweep_batches gauge
            partner_center_sweep_batches \(report.batches)
            # HELP partner_center_sweep_duration_seconds Duration of the last retention sweep.
            # TYPE partner_center_sweep_duration_seconds gauge
            partner_center_sweep_duration_seconds \(report.seconds)
            # HELP partner_center_sweep_longest_batch_seconds Longest batch transaction of the last retention sweep.
            # TYPE partner_center_sweep_longest_batch_seconds gauge
            partner_center_sweep_longest_batch_seconds \(report.longestBatchSeconds)
            # HELP partner_center_sweep_last_success_timestamp_seconds When the last retention sweep finished.
            # TYPE partner_center_sweep_last_success_timestamp_seconds gauge
            partner_center_sweep_last_success_timestamp_seconds \(Int(Date().timeIntervalSince1970))

            """
        // Written beside the target and renamed, so the collector never reads half a file.
        let temporary = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        _ = try FileManager.default.replaceItemAt(URL(fileURLWithPath: path), withItemAt: URL(fileURLWithPath: temporary))
    }
}

/// The sweep's progress on stderr (DESIGN §11): the total due at the start, then done of
/// total, percent, rate and the time left, every `interval` rather than every batch.
struct ProgressPrinter {
    let interval: Duration
    private var started: ContinuousClock.Instant?
    private var lastPrinted: ContinuousClock.Instant?

    init(interval: Duration) { self.interval = interval }

    mutating func consider(_ report: RetentionSweep.Report) {
        guard !report.dryRun else { return }
        let now = ContinuousClock.now
        guard let started else {
            self.started = now
            lastPrinted = now
            Self.write("retention-sweep: \(report.totalDue) due (lifts, expiries, freezes, releases)")
            return
        }
        guard let lastPrinted, now - lastPrinted >= interval else { return }
        self.lastPrinted = now
        Self.write(Self.line(report, elapsed: now - started))
    }

    /// `done of total (percent), rows/s, ETA`; the percent and the time left cap at the total
    /// (a resource can take several steps in one run).
    static func line(_ report: RetentionSweep.Report, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(report.done) / seconds : 0
        let total = max(report.totalDue, 1)
        let percent = min(100, Double(report.done) * 100 / Double(total))
        let left = max(report.totalDue - report.done, 0)
        let eta = rate > 0 ? String(format: "%.0f s", Double(left) / rate) : "unknown"
        return String(format: "retention-sweep: %d of %d (%.1f %%), %.0f rows/s, ETA %@", report.done, report.totalDue, percent, rate, eta)
    }

    private static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
