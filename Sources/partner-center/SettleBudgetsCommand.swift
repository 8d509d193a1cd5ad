import ArgumentParser
import Foundation
import Logging
import PartnerCore
import Postgres

/// `partner-center settle-budgets`: one settlement of every budget with something to settle
/// (DESIGN §10). `serve` runs the same settlement every few seconds; this command is for a
/// deployment that turns that off (BUDGET_SETTLEMENT_SECONDS=0) and runs it from cron.
struct SettleBudgetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settle-budgets",
        abstract: "Settle budgets once: alerts, restrictions at exhaustion, lifts at a new period.",
        discussion: "Safe to run beside a server that settles too: the customer lock makes them take turns.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() async throws {
        let logger = Logger(label: "settle-budgets")
        let report = try await BatchRun(command: "settle-budgets").run(database, logger: logger) { client, _ in
            try await BudgetSettlement(client: client, refusals: RefusalCache(lifetime: .zero)).run()
        }
        defer {
            // A customer that could not be settled fails the run (the others were settled).
            if report.failed > 0 {
                FileHandle.standardError.write(Data("failed: \(report.failures.joined(separator: "; "))\n".utf8))
                Foundation.exit(1)
            }
        }
        if json {
            try BatchRun.printJSON(report)
        } else {
            print("settled \(report.customers) customers: \(report.alerts) alerts, \(report.restricted) restricted, "
                + "\(report.lifted) lifted, \(report.skipped) not restricted (setter without authority); "
                + "charges of \(report.dropped) customers without a budget dropped; \(report.failed) failed")
        }
    }
}
