import Foundation
import Postgres

/// Settles budgets (DESIGN §10): drains each customer's unsettled charges into its budget
/// and sends each threshold's alert once per period (`settle_budget`, schema 0015: spend,
/// periods and thresholds), then enforces the budget's restriction (`enforce`, here: when a
/// budget restricts and when it lifts). `Budgets` runs both when a budget is set or removed;
/// `run` at least every 60 s.
///
/// Locking: one transaction per customer, which locks the customer row `FOR UPDATE` first
/// (`LockedCustomer.lockForSystem`), as a freeze does: a restriction applied here holds the
/// purchase gate exactly as a person's does (the gate's `FOR SHARE` waits for it), setting a
/// budget cannot interleave with a settlement, and two settlers of one customer take turns
/// (the second finds nothing to drain). Usage takes no lock a settlement holds on plain
/// PostgreSQL (its charges are rows of their own); on Citus, naming the customer's tenant
/// takes `FOR KEY SHARE` on the customer, so usage waits for a settlement's short
/// transaction.
public struct BudgetSettlement: Sendable {
    let client: PostgresClient
    let refusals: RefusalCache

    public init(client: PostgresClient, refusals: RefusalCache) {
        self.client = client
        self.refusals = refusals
    }

    /// What one run did.
    public struct Report: Sendable, Codable, Equatable {
        public var customers = 0
        public var alerts = 0
        public var restricted = 0
        public var lifted = 0
        public var skipped = 0
        /// Customers without a budget whose charges were dropped.
        public var dropped = 0
        /// Customers whose settlement failed (the others went on); `failures` names them.
        public var failed = 0
        public var failures: [String] = []
    }

    /// What settling one customer did to its restriction.
    enum Enforcement: Equatable {
        case none
        case restricted
        case lifted
        /// The budget's restriction was replaced by one of the type its changed policy names.
        case replaced
        /// The budget's setter no longer holds the authority: alerted, not restricted.
        case skipped

        /// A restriction was lifted (or replaced), so refusals remembered for the customer go.
        var reopensPurchases: Bool { self == .lifted || self == .replaced }
    }

    /// Why the budget's enforcement runs, and the request that caused it (for the audit).
    enum Trigger: Equatable {
        /// The periodic settlement: restricts on the crossing of 100 % itself.
        case settlement
        /// A budget set: restricts when already exhausted and the crossing is new, or the
        /// policy changed (resending the same budget does not undo a person's lift).
        case set(policyChanged: Bool, requestID: String?)
        case removed(requestID: String?)

        var requestID: String? {
            switch self {
            case .settlement: nil
            case .set(_, let requestID), .removed(let requestID): requestID
            }
        }

        var isRemoval: Bool { if case .removed = self { true } else { false } }

        var changedPolicy: Bool { if case .set(true, _) = self { true } else { false } }
    }

    /// Customers with a budget and unsettled charges after `$1` in id order, `$2` at a time
    /// (a probe of the charges' key per budget, whatever else the table holds).
    static let dueChargesSQL = """
        SELECT b.customer_id FROM budgets b
        WHERE b.customer_id > $1 AND EXISTS (SELECT 1 FROM budget_charges c WHERE c.customer_id = b.customer_id)
        ORDER BY b.customer_id LIMIT $2
        """
    /// Monthly budgets whose period is over by the clock `$1` (NULL: the database's), after
    /// `$2`, `$3` at a time.
    static let dueRolloverSQL = """
        SELECT customer_id FROM budgets
        WHERE period = 'monthly' AND period_start < budget_period_start('monthly', coalesce($1::timestamptz, now()))
          AND customer_id > $2
        ORDER BY customer_id LIMIT $3
        """
    /// Customers without a budget whose charges wait to be dropped, after `$1`, `$2` at a time.
    static let unbudgetedSQL = """
        SELECT DISTINCT c.customer_id FROM budget_charges c
        WHERE c.customer_id > $1 AND NOT EXISTS (SELECT 1 FROM budgets b WHERE b.customer_id = c.customer_id)
        ORDER BY c.customer_id LIMIT $2
        """

    /// Settles every budget that has something to settle, `batch` customers per listing.
    /// `now` overrides the database's clock for monthly periods (tests move it).
    ///
    /// One customer's failure (a lock timeout behind a long freeze, a bug) is counted and the
    /// others go on; the database being unavailable ends the run.
    ///
    /// With `droppingUnbudgeted`, also drops the charges of up to `batch` customers without a
    /// budget: no rule waits on them, so `serve` does it only every few minutes.
    public func run(now: Date? = nil, batch: Int = 500, droppingUnbudgeted: Bool = true) async throws -> Report {
        var report = Report()
        for listing in droppingUnbudgeted ? [Listing.charges, .rollovers, .unbudgeted] : [.charges, .rollovers] {
            var cursor = CustomerID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
            while true {
                let after = cursor
                let due = try await client.withTransaction(in: .all, readOnly: true) { connection in
                    let rows = switch listing {
                    case .charges: try connection.query(Self.dueChargesSQL, [after, batch])
                    case .rollovers: try connection.query(Self.dueRolloverSQL, [now, after, batch])
                    case .unbudgeted: try connection.query(Self.unbudgetedSQL, [after, batch])
                    }
                    return try rows.map { try $0.decode(0, as: CustomerID.self) }
                }
                for customerID in due {
                    do {
                        if listing == .unbudgeted {
                            try await drop(customerID: customerID)
                            report.dropped += 1
                            continue
                        }
                        let outcome = try await settle(customerID: customerID, now: now)
                        report.customers += 1
                        report.alerts += outcome.alerts
                        switch outcome.enforcement {
                        case .restricted, .replaced: report.restricted += 1
                        case .lifted: report.lifted += 1
                        case .skipped: report.skipped += 1
                        case .none: break
                        }
                    } catch let error as PostgresError where error.isUnavailable {
                        throw error
                    } catch {
                        report.failed += 1
                        if report.failures.count < 10 { report.failures.append("\(customerID.lowercasedString): \(error)") }
                    }
                }
                // The drop takes one page a run: it must not hold up the next settlement.
                guard listing != .unbudgeted, due.count == batch, let last = due.last else { break }
                cursor = last
            }
        }
        return report
    }

    private enum Listing { case charges, rollovers, unbudgeted }

    /// Settles one customer in its own transaction.
    func settle(customerID: CustomerID, now: Date?) async throws -> (alerts: Int, enforcement: Enforcement) {
        let result = try await client.withTransaction(in: .all) { connection -> (alerts: Int, enforcement: Enforcement) in
            guard let locked = try LockedCustomer.lockForSystem(customerID, connection) else { return (0, .none) }
            return try Self.settle(locked, now: now, trigger: .settlement, connection)
        }
        if result.enforcement.reopensPurchases { refusals.forget(customerIDs: [customerID]) }
        return result
    }

    /// Drops the charges of a customer without a budget. `FOR KEY SHARE` conflicts with the
    /// `FOR UPDATE` of a budget being set (whose count must find every charge it did not
    /// see), not with the purchase gate's `FOR SHARE`; the second statement reads after the
    /// lock, so it sees a budget that committed while it waited.
    func drop(customerID: CustomerID) async throws {
        try await client.withTransaction(in: .all) { connection in
            try connection.query("SELECT 1 FROM customers WHERE id = $1 FOR KEY SHARE", [customerID])
            try connection.query("""
                DELETE FROM budget_charges c
                WHERE c.customer_id = $1 AND NOT EXISTS (SELECT 1 FROM budgets b WHERE b.customer_id = $1)
                """, [customerID])
        }
    }

    /// Settles a locked customer's budget and enforces it (the caller holds the lock).
    static func settle(
        _ locked: LockedCustomer, now: Date?, trigger: Trigger, _ connection: PostgresConnection
    ) throws -> (alerts: Int, enforcement: Enforcement) {
        guard let row = try connection.query(
            "SELECT exhausted, alerts, crossed_limit, rolled, on_exhaustion, set_by_kind, set_by_id FROM settle_budget($1, $2)",
            [locked.id, now]).first
        else {
            return (0, try enforce(locked, budget: nil, trigger: trigger, connection))
        }
        let state = SettledBudget(
            exhausted: try row.decode(0), crossedLimit: try row.decode(2), rolled: try row.decode(3),
            policy: try row.decode(4, as: BudgetPolicy.self),
            setter: Principal(kind: try row.decode(5, as: Principal.Kind.self), id: try row.decode(6)))
        return (try row.decode(1), try enforce(locked, budget: state, trigger: trigger, connection))
    }

    /// A budget as settled, with what its enforcement needs.
    struct SettledBudget {
        var exhausted: Bool
        /// The current period's 100 % was crossed by this settlement.
        var crossedLimit: Bool
        var rolled: Bool
        var policy: BudgetPolicy
        var setter: Principal
    }

    static let exhaustedReason = "budget exhausted"

    /// The restriction rules of DESIGN §10, on a locked customer. `budget` is nil when the
    /// customer has none (removed).
    static func enforce(
        _ locked: LockedCustomer, budget: SettledBudget?, trigger: Trigger, _ connection: PostgresConnection
    ) throws -> Enforcement {
        let active = try locked.activeRestriction(connection)
        // A budget lifts only its own restriction, once the budget no longer holds: raised
        // above the spend, a new period, its policy now only notifies or names another type,
        // or removed.
        if let active, active.origin == .budget {
            let reason: String? =
                switch budget {
                case nil: trigger.isRemoval ? "budget removed" : nil
                case let budget? where budget.rolled && !budget.exhausted: "new budget period"
                case let budget? where !budget.exhausted: "budget raised"
                case let budget? where budget.policy.restrictionType == nil: "budget policy notifies only"
                case let budget? where budget.policy.restrictionType != active.type: "budget policy changed"
                default: nil
                }
            guard let reason else { return .none }
            _ = try Restrictions.lift(
                locked, restrictionID: active.id, reason: reason, actor: .system, requestID: trigger.requestID, connection)
            // A changed policy that still restricts: its own type replaces the old one.
            guard let budget, budget.exhausted, let type = budget.policy.restrictionType else { return .lifted }
            return try restrict(locked, type, budget, trigger, connection) == .restricted ? .replaced : .lifted
        }
        guard let budget, budget.exhausted, let type = budget.policy.restrictionType, active == nil, locked.status == .normal
        else { return .none }
        guard budget.crossedLimit || trigger.changedPolicy else { return .none }
        return try restrict(locked, type, budget, trigger, connection)
    }

    /// Applies the budget's restriction for whoever set the budget. If that partner or
    /// distributor can no longer restrict this customer (grant revoked, suspended), the
    /// alert stands alone and `budget.restriction_skipped` says why.
    private static func restrict(
        _ locked: LockedCustomer, _ type: RestrictionType, _ budget: SettledBudget, _ trigger: Trigger,
        _ connection: PostgresConnection
    ) throws -> Enforcement {
        if let refusal = locked.authority.refusal(for: budget.setter) {
            try Outbox.appendOnShard(
                connection, type: Outbox.EventType.budgetRestrictionSkipped, scope: locked.scope,
                data: ["reason": .string(refusal.code.rawValue), "on_exhaustion": .string(budget.policy.rawValue)])
            return .skipped
        }
        _ = try Restrictions.apply(
            locked, restrictionID: .random(), type: type, reason: exhaustedReason, actor: .system, origin: .budget,
            requestID: trigger.requestID, liftAt: nil, connection)
        return .restricted
    }
}
