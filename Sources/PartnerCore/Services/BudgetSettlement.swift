import Foundation
import Postgres

/// Settles budgets (DESIGN §10): drains each customer's unsettled charges into its budget,
/// sends each threshold's alert once per period, restricts at 100 % under an automatic
/// policy and lifts a budget's own restriction when the budget no longer holds (raised above
/// the spend, a new monthly period, removed). The rules are here, once; `Budgets` applies
/// them when a budget is set or removed, and `run` at least every 60 s.
///
/// Locking: one transaction per customer, which locks the customer row `FOR UPDATE` first
/// (`LockedCustomer.lockForSystem`), as a freeze does: a restriction applied here holds the
/// purchase gate exactly as a person's does (the gate's `FOR SHARE` waits for it), setting a
/// budget cannot interleave with a settlement, and two settlers of one customer take turns
/// (the second finds nothing to drain). Usage never waits: its charges are rows of their own.
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
    }

    /// What settling one customer did to its restriction.
    enum Enforcement: Equatable {
        case none
        case restricted
        case lifted
        /// The budget's setter no longer holds the authority: alerted, not restricted.
        case skipped
    }

    /// Why the budget's enforcement is running: a settlement only restricts on the crossing
    /// itself; setting a budget that is already exhausted restricts at once.
    enum Trigger {
        case settlement, set, removed
    }

    /// Customers with a budget and unsettled charges after `$1` in id order, `$2` at a time
    /// (a probe of the charges' key per budget, whatever else the table holds).
    static let dueChargesSQL = """
        SELECT b.customer_id FROM budgets b
        WHERE b.customer_id > $1 AND EXISTS (SELECT 1 FROM budget_charges c WHERE c.customer_id = b.customer_id)
        ORDER BY b.customer_id LIMIT $2
        """
    /// Monthly budgets whose period is over by the clock `$1`, after `$2`, `$3` at a time.
    static let dueRolloverSQL = """
        SELECT customer_id FROM budgets
        WHERE period = 'monthly' AND period_start < date_trunc('month', $1::timestamptz, 'UTC') AND customer_id > $2
        ORDER BY customer_id LIMIT $3
        """
    /// Customers without a budget whose charges wait to be dropped, after `$1`, `$2` at a time.
    static let unbudgetedSQL = """
        SELECT DISTINCT c.customer_id FROM budget_charges c
        WHERE c.customer_id > $1 AND NOT EXISTS (SELECT 1 FROM budgets b WHERE b.customer_id = c.customer_id)
        ORDER BY c.customer_id LIMIT $2
        """

    /// Settles every budget that has something to settle, `batch` customers per listing.
    /// `now` is the clock that decides monthly periods (tests move it).
    ///
    /// With `droppingUnbudgeted`, also drops the charges of customers without a budget: no
    /// rule waits on them, so `serve` does it only every few minutes. Each goes through the
    /// same locked settlement as a budget's (a budget set meanwhile must find every charge
    /// its count did not see), one short transaction per customer.
    public func run(now: Date = Date(), batch: Int = 500, droppingUnbudgeted: Bool = true) async throws -> Report {
        var report = Report()
        for listing in droppingUnbudgeted ? [Listing.charges, .rollovers, .unbudgeted] : [.charges, .rollovers] {
            var cursor = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            while true {
                let after = cursor
                let due = try await client.withTransaction(in: .all, readOnly: true) { connection in
                    let rows = switch listing {
                    case .charges: try connection.query(Self.dueChargesSQL, [after, batch])
                    case .rollovers: try connection.query(Self.dueRolloverSQL, [now, after, batch])
                    case .unbudgeted: try connection.query(Self.unbudgetedSQL, [after, batch])
                    }
                    return try rows.map { try $0.decode(0, as: UUID.self) }
                }
                for customerID in due {
                    let outcome = try await settle(customerID: customerID, now: now)
                    if listing == .unbudgeted {
                        report.dropped += 1
                        continue
                    }
                    report.customers += 1
                    report.alerts += outcome.alerts
                    switch outcome.enforcement {
                    case .restricted: report.restricted += 1
                    case .lifted: report.lifted += 1
                    case .skipped: report.skipped += 1
                    case .none: break
                    }
                }
                guard due.count == batch, let last = due.last else { break }
                cursor = last
            }
        }
        return report
    }

    private enum Listing { case charges, rollovers, unbudgeted }

    /// Settles one customer in its own transaction.
    func settle(customerID: UUID, now: Date) async throws -> (alerts: Int, enforcement: Enforcement) {
        let result = try await client.withTransaction(in: .all) { connection -> (alerts: Int, enforcement: Enforcement) in
            guard let locked = try LockedCustomer.lockForSystem(customerID, connection) else { return (0, .none) }
            return try Self.settle(locked, now: now, trigger: .settlement, connection)
        }
        if result.enforcement == .lifted { refusals.forget(customerIDs: [customerID]) }
        return result
    }

    /// Settles a locked customer's budget and enforces it (the caller holds the lock).
    static func settle(
        _ locked: LockedCustomer, now: Date, trigger: Trigger, _ connection: PostgresConnection
    ) throws -> (alerts: Int, enforcement: Enforcement) {
        guard let row = try connection.query(
            "SELECT exhausted, crossed, rolled, on_exhaustion, set_by_kind, set_by_id FROM settle_budget($1, $2)",
            [locked.id, now]).first
        else {
            return (0, try enforce(locked, budget: nil, trigger: trigger, connection))
        }
        guard let policy = BudgetPolicy(rawValue: try row.decode(3)), let setterKind = Principal.Kind(rawValue: try row.decode(4))
        else { throw PartnerError.internal }
        let crossed: [Int] = try row.decode(1)
        let state = SettledBudget(
            exhausted: try row.decode(0), crossedLimit: crossed.contains(100), rolled: try row.decode(2), policy: policy,
            setter: Principal(kind: setterKind, id: try row.decode(5)))
        return (crossed.count, try enforce(locked, budget: state, trigger: trigger, connection))
    }

    /// A budget as settled, with what its enforcement needs.
    struct SettledBudget {
        var exhausted: Bool
        /// The 100 % threshold was crossed by this settlement.
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
        let system = ActorRef(kind: ActorKind.system, id: nil)
        let active = try locked.activeRestriction(connection)
        // A budget lifts only its own restriction, once the budget no longer holds: raised
        // above the spend, a new period, its policy now only notifies, or removed.
        if let active, active.origin == .budget,
            budget.map({ !$0.exhausted || $0.policy.restrictionType == nil }) ?? (trigger == .removed)
        {
            let reason =
                switch budget {
                case nil: "budget removed"
                case let budget? where budget.rolled: "new budget period"
                case let budget? where budget.exhausted: "budget policy notifies only"
                default: "budget raised"
                }
            _ = try Restrictions.lift(locked, restrictionID: active.id, reason: reason, actor: system, requestID: nil, connection)
            return .lifted
        }
        guard let budget, budget.exhausted, let type = budget.policy.restrictionType, active == nil, locked.status == .normal,
            budget.crossedLimit || trigger == .set
        else { return .none }
        // The policy acts for whoever set it: if that partner or distributor can no longer
        // restrict this customer (grant revoked, suspended), the alert stands alone.
        if let refusal = locked.authority.refusal(for: budget.setter) {
            try Outbox.appendOnShard(
                connection, type: Outbox.EventType.budgetRestrictionSkipped, scope: locked.scope,
                data: ["reason": .string(refusal.code.rawValue), "on_exhaustion": .string(budget.policy.rawValue)])
            return .skipped
        }
        _ = try Restrictions.apply(
            locked, restrictionID: UUID.random(), type: type, reason: exhaustedReason, actor: system, origin: .budget,
            requestID: nil, liftAt: nil, connection)
        return .restricted
    }
}

extension LockedCustomer {
    /// The tenants an event or audit row of this customer names.
    var scope: TenantScope {
        TenantScope(distributorID: authority.facts.distributorID, partnerID: authority.facts.partnerID, customerID: id)
    }
}
