import Logging
import Metrics
import PartnerCore
import ServiceLifecycle

/// Settles budgets every `interval` while the server runs (DESIGN §10: a crossing is
/// enforced within 60 s), as a service of the application: graceful shutdown ends the wait,
/// and a settlement in progress finishes its customer's transaction. Several servers may run
/// it at once; the customer lock makes them take turns, and the later finds nothing to do.
struct BudgetSettlementService: Service {
    let settlement: BudgetSettlement
    let interval: Duration
    let logger: Logger

    /// Every how many rounds the charges of customers without a budget are dropped too.
    static let droppingEvery = 30

    func run() async throws {
        var round = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            defer { round += 1 }
            do {
                let report = try await settlement.run(droppingUnbudgeted: round % Self.droppingEvery == 0)
                if report.alerts + report.restricted + report.lifted + report.skipped > 0 {
                    logger.notice("budgets settled", metadata: [
                        "customers": "\(report.customers)", "alerts": "\(report.alerts)", "restricted": "\(report.restricted)",
                        "lifted": "\(report.lifted)", "skipped": "\(report.skipped)",
                    ])
                }
                // A customer the settlement could not settle is a bug or a lock held too long:
                // logged with its id and counted as an internal error; the next round retries.
                if report.failed > 0 {
                    AppMetrics.internalErrors.increment(by: report.failed)
                    logger.error("budget settlement failed for some customers", metadata: [
                        "failed": "\(report.failed)", "failures": "\(report.failures.joined(separator: "; "))",
                    ])
                }
            } catch {
                // The database is away (a restart): the next round tries again.
                logger.error("budget settlement failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
