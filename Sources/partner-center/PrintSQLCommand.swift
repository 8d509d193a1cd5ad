import ArgumentParser
import PartnerCore

/// Prints statements the server runs (`BaselineSQL`), so `Scripts/bench` measures its
/// baselines on the very text the binary sends instead of a hand copy that could drift.
struct PrintSQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-sql",
        abstract: "Print statements the server runs, as a pgbench or psql script (Scripts/bench's baselines).",
        shouldDisplay: false)

    @Argument(help: """
        buy: a pay-per-use buy as one pgbench statement (the customer is the variable customer_id); \
        freeze: a distributor's freeze as a psql script (variables cid, pid, did, rid).
        """)
    var statement: String

    func run() throws {
        switch statement {
        case "buy": print(BaselineSQL.buy)
        case "freeze": print(BaselineSQL.freeze, terminator: "")
        default: throw ValidationError("print-sql takes buy or freeze")
        }
    }
}
