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
        let report: BudgetSettlement.Report
        do {
            report = try await database.withClient(applicationName: "partner-center settle-budgets", logger: logger) { client in
                try await RetentionSweepCommand.requireSchema(client)
                return try await BudgetSettlement(client: client, refusals: RefusalCache(lifetime: .zero)).run()
            }
        } catch let error as PostgresError {
            RetentionSweepCommand.fail(error.isUnavailable ? "database unreachable: \(error.message)" : "database error: \(error.message)")
        } catch let error as PartnerError {
            RetentionSweepCommand.fail(error.message)
        }
        defer {
            // A customer that could not be settled fails the run (the others were settled).
            if report.failed > 0 {
                FileHandle.standardError.write(Data("failed: \(report.failures.joined(separator: "; "))\n".utf8))
                Foundation.exit(1)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("settled \(report.customers) customers: \(report.alerts) alerts, \(report.restricted) restricted, "
                + "\(report.lifted) lifted, \(report.skipped) not restricted (setter without authority); "
                + "charges of \(report.dropped) customers without a budget dropped; \(report.failed) failed")
        }
    }
}
