import Foundation

/// The statements the server runs for a buy and a freeze, and the sweep's batch statements,
/// as scripts for pgbench and psql: `Scripts/bench` measures its baselines on the very text
/// the binary sends (through the hidden `partner-center print-sql` and the sweep's
/// `--print-transition-sql`), so a baseline cannot drift from the code.
public enum BaselineSQL {
    /// A pay-per-use buy of `PurchaseGate` as one pgbench statement, with the parameters the
    /// server binds for {"action":"buy","resource":{"type":"ecs.instance","billing_mode":
    /// "pay_per_use"}}: fresh resource and order ids, an empty spec, no term, a request id.
    /// The customer is the pgbench variable `customer_id`.
    public static var buy: String {
        let text = substitute(PurchaseGate.buySQL, [
            ":customer_id", "gen_random_uuid()", "'ecs.instance'", "'pay_per_use'", "'{}'", "NULL", "gen_random_uuid()",
            "'pgbench'",
        ])
        return text.split(separator: "\n").joined(separator: " ") + ";"
    }

    /// A distributor's freeze (`purchase_and_resources`) of one customer as a psql script,
    /// in the service's order: the customer locked with its partner and distributor, the
    /// grant read after the locks, then `apply_freeze`, in one transaction. psql variables:
    /// `cid` the customer, `pid` its partner, `did` its distributor, `rid` a new restriction id.
    public static var freeze: String {
        let type = RestrictionType.purchaseAndResources
        let lock = substitute(LockedCustomer.factsSQL(visible: "true", locking: true), [":'cid'"])
        let grant = substitute(LockedCustomer.grantSQL, [":'pid'"])
        let apply = substitute(Restrictions.applyFreezeSQL, [
            ":'cid'", ":'rid'", "'\(type.rawValue)'", "'bench baseline'", "'distributor'", ":'did'",
            "'\(type.customerStatus.rawValue)'", "\(RetentionPolicy.defaultSeconds)", ":'did'", ":'pid'", "'psql'", "NULL",
            "'\(RestrictionOrigin.manual.rawValue)'",
        ])
        let statements = [lock, grant, apply].map { $0 + ";" }
        return (["\\set ON_ERROR_STOP on", "BEGIN;"] + statements + ["COMMIT;"]).joined(separator: "\n") + "\n"
    }

    /// One customer's batch statement of a sweep transition (`expire`, `freeze-expired` or
    /// `release`) for psql, with the batch size in place and the customer as the variable
    /// `customer_id`; nil for another name.
    public static func sweepBatch(_ transition: String, batchSize: Int) -> String? {
        let statements = [
            "expire": RetentionSweep.expireSQL, "freeze-expired": RetentionSweep.freezeExpiredSQL,
            "release": RetentionSweep.releaseSQL,
        ]
        return statements[transition].map { substitute($0, [":'customer_id'", String(batchSize)]) + ";" }
    }

    /// `sql` with `$1`, `$2`, … replaced by `values` in order; the highest number first, so
    /// `$1` never eats the start of `$12`.
    static func substitute(_ sql: String, _ values: [String]) -> String {
        var text = sql
        for (index, value) in values.enumerated().reversed() {
            text = text.replacingOccurrences(of: "$\(index + 1)", with: value)
        }
        return text
    }
}
