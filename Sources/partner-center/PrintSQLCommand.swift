import ArgumentParser
import Foundation
import PartnerCore

/// Prints a statement the server runs, as a pgbench script, so `Scripts/bench` measures
/// its baseline on the very text the binary sends instead of a hand copy that could drift.
struct PrintSQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-sql",
        abstract: "Print a statement the server runs, as a pgbench script (Scripts/bench's baseline).",
        shouldDisplay: false)

    @Argument(help: "The statement: buy (a pay-per-use buy of PurchaseGate; the customer is the pgbench variable customer_id).")
    var statement: String

    func run() throws {
        guard statement == "buy" else { throw ValidationError("print-sql takes buy") }
        // The parameters the server binds for `POST /v1/customers/{id}/orders` with
        // {"action":"buy","resource":{"type":"ecs.instance","billing_mode":"pay_per_use"}}:
        // fresh resource and order ids, an empty spec, no term, a request id.
        let values = [
            "$1": ":customer_id", "$2": "gen_random_uuid()", "$3": "'ecs.instance'", "$4": "'pay_per_use'",
            "$5": "'{}'", "$6": "NULL", "$7": "gen_random_uuid()", "$8": "'pgbench'",
        ]
        var text = PurchaseGate.buySQL
        for (placeholder, value) in values { text = text.replacingOccurrences(of: placeholder, with: value) }
        print(text.split(separator: "\n").joined(separator: " ") + ";")
    }
}
