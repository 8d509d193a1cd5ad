import Foundation
import Postgres

/// A budget per customer (DESIGN §10), set and removed by whoever holds the freeze authority
/// for the customer, under the rules of a freeze: the customer locked `FOR UPDATE` with its
/// partner and distributor (`LockedCustomer`), suspension and the grant checked, the
/// verification code asked for when the setter's setting is on (purpose `budget`), the
/// agreement accepted for the freeze policy, an audit event. The customer and its tenants
/// read it; a customer's own budget is read-only to it.
///
/// Setting a budget settles it in the same transaction (`BudgetSettlement`): one already
/// exhausted restricts at once under an automatic policy, and one raised above the spend
/// lifts the budget's own restriction.
public struct Budgets: Sendable {
    let client: PostgresClient
    let codes: VerificationCodes
    let refusals: RefusalCache

    public init(client: PostgresClient, codes: VerificationCodes, refusals: RefusalCache) {
        self.client = client
        self.codes = codes
        self.refusals = refusals
    }

    /// Spent and its percentage of the amount, as every answer shows them (`alias`: the
    /// budgets row).
    static func spentSQL(_ alias: String) -> String {
        "trim_scale(\(alias).spent)::text, round(\(alias).spent * 100 / \(alias).amount, 2)::float8"
    }

    static let selectSQL = """
        SELECT b.customer_id, b.amount::text, b.period, b.on_exhaustion, b.period_start, \(spentSQL("b")),
               trim_scale(greatest(b.amount - b.spent, 0))::text, b.thresholds_reached,
               b.agreement_version, b.set_by_kind, b.set_by_id, b.updated_at
        FROM budgets b WHERE b.customer_id = $1
        """

    static func budget(_ row: PostgresRow) throws -> Budget {
        Budget(
            customerId: try row.decode(0), amount: try row.decode(1), period: try row.decode(2, as: BudgetPeriod.self),
            onExhaustion: try row.decode(3, as: BudgetPolicy.self),
            periodStart: try row.decode(4), spent: try row.decode(5), remaining: try row.decode(7), percentUsed: try row.decode(6),
            thresholdsReached: try row.decode(8), agreementVersion: try row.decode(9, as: String?.self),
            setBy: ActorRef(kind: try row.decode(10), id: try row.decode(11)), updatedAt: try row.decode(12), alerts: nil)
    }

    /// How many alerts `get` lists.
    static let alertsListed = 50

    /// The customer's alerts, newest first (its events live with it: `tenant_id`).
    static let alertsSQL = """
        SELECT (data->>'percent')::integer, data->>'spent', data->>'amount', (data->>'period_start')::timestamptz, occurred_at
        FROM outbox_events
        WHERE tenant_id = $1 AND customer_id = $1 AND type = '\(Outbox.EventType.budgetThresholdReached)'
        ORDER BY id DESC LIMIT $2
        """

    /// The customer's budget as of its last settlement; `not_found` without one, or for a
    /// customer the principal does not see.
    public func get(_ principal: Principal, customerID: CustomerID) async throws -> Budget {
        try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            try Access.requireVisible(principal, customerID: customerID, connection)
            guard let row = try connection.query(Self.selectSQL, [customerID]).first else { throw PartnerError.notFound("a budget") }
            var budget = try Self.budget(row)
            budget.alerts = try connection.query(Self.alertsSQL, [customerID, Self.alertsListed]).map { alert in
                BudgetAlert(
                    percent: try alert.decode(0), spent: try alert.decode(1), amount: try alert.decode(2), periodStart: try alert.decode(3),
                    occurredAt: try alert.decode(4))
            }
            return budget
        }
    }

    /// Sets (creates or replaces) the customer's budget. A new budget, or one whose period
    /// changes, starts a period of its own and counts what the customer spent in it so far;
    /// otherwise spend and period stay, and only the alerts still reached under the new
    /// amount stay sent (the others are sent again when reached again).
    /// `now` overrides the database's clock for the period (tests move it).
    public func set(customerID: CustomerID, _ request: BudgetRequest, now: Date? = nil, context: ChangeContext) async throws -> Budget {
        try Restrictions.requireActorKind(context.principal, to: "set its budget")
        let amount = try Validate.decimal(request.amount, field: "amount", fractionDigits: 2, positive: true)
        guard let period = request.period else { throw PartnerError.validation("period must be monthly or one_time") }
        guard let policy = request.onExhaustion else {
            throw PartnerError.validation("on_exhaustion must be notify, restrict_purchase or restrict_purchase_and_freeze_resources")
        }
        if policy == .restrictPurchaseAndFreezeResources && !request.agreementAccepted { throw Agreements.required }
        return try await change(customerID, code: request.verificationCode, context: context) { locked, connection in
            let policyChanged = try Self.store(
                locked, amount: amount, period: period, policy: policy, now: now, context: context, connection)
            let (_, enforcement) = try BudgetSettlement.settle(
                locked, now: now, trigger: .set(policyChanged: policyChanged, requestID: context.requestID), connection)
            let budget = try Self.budget(try connection.query(Self.selectSQL, [customerID]).single())
            try AuditLog.append(
                connection, context, action: "budget.set", target: ("customer", customerID.uuid), scope: locked.scope,
                details: [
                    "amount": .string(amount), "period": .string(period.rawValue), "on_exhaustion": .string(policy.rawValue),
                    "agreement_version": budget.agreementVersion.map { .string($0) } ?? .null,
                ])
            return (budget, enforcement)
        }
    }

    /// One change of a budget, in one transaction of the caller's tenant: the customer locked
    /// under a freeze's rules, a code of purpose `budget` checked when the caller's setting
    /// asks for one (a wrong code's attempt commits, then the refusal is thrown), and the
    /// transaction then named after the customer, whose charges and rows it reads under
    /// row-level security. The answer is stored for an `Idempotency-Key`; purchases a lift
    /// reopened are forgotten by the refusal cache once it commits.
    private func change<Value: Encodable & Sendable>(
        _ customerID: CustomerID, code: String?, context: ChangeContext,
        _ body: @escaping @Sendable (LockedCustomer, PostgresConnection) throws -> (Value, BudgetSettlement.Enforcement)
    ) async throws -> Value {
        let codes = self.codes
        let (value, enforcement) = try await Restrictions.settle(client.withTransaction(in: Access.tenant(of: context.principal)) {
            connection -> Restrictions.Settled<(Value, BudgetSettlement.Enforcement)> in
            let locked = try LockedCustomer.lock(customerID, for: context.principal, connection)
            if locked.actorRequiresCode,
                let refusal = try codes.verify(connection, principal: context.principal, purpose: .budget, code: code)
            {
                return .refused(refusal)
            }
            try connection.name(.customer(customerID))
            let (value, enforcement) = try body(locked, connection)
            try context.recordAnswer(value, connection)
            return .done((value, enforcement))
        })
        if enforcement.reopensPurchases { refusals.forget(customerIDs: [customerID]) }
        return value
    }

    /// Writes the budget row under the customer's lock; answers whether its policy is new
    /// (a new budget, or another policy than before).
    private static func store(
        _ locked: LockedCustomer, amount: String, period: BudgetPeriod, policy: BudgetPolicy, now: Date?, context: ChangeContext,
        _ connection: PostgresConnection
    ) throws -> Bool {
        let agreement: String? =
            policy == .restrictPurchaseAndFreezeResources ? try connection.query(Agreements.currentSQL).first?.decode(0) : nil
        let current = try connection.query(
            "SELECT period, spent, thresholds_reached, on_exhaustion FROM budgets WHERE customer_id = $1 FOR UPDATE", [locked.id]
        ).first
        let policyChanged = try current?.decode(3, as: String.self) != policy.rawValue
        let actor = context.principal
        if let current, try current.decode(0, as: String.self) == period.rawValue {
            // The alerts still reached under the new amount stay sent.
            let kept: [Int] = try connection.query(
                "SELECT ARRAY(SELECT t FROM unnest($1::integer[]) t WHERE $2::numeric * 100 >= t * $3::numeric ORDER BY t)",
                [try current.decode(2, as: [Int].self), try current.decode(1, as: String.self), amount]
            ).single().decode(0)
            try connection.query("""
                UPDATE budgets SET amount = $2::numeric, on_exhaustion = $3, agreement_version = $4, thresholds_reached = $5::integer[],
                                   set_by_kind = $6, set_by_id = $7, updated_at = now()
                WHERE customer_id = $1
                """, [locked.id, amount, policy.rawValue, agreement, kept, actor.actorKind, actor.id])
            return policyChanged
        }
        // A period of its own: a month from the 1st (00:00 UTC), or one-time from now.
        let start: Date = try connection.query(
            "SELECT budget_period_start($1, coalesce($2::timestamptz, now()))", [period.rawValue, now]
        ).single().decode(0)
        let spent: String = try connection.query("SELECT budget_recount($1, $2)::text", [locked.id, start]).single().decode(0)
        let owners = locked.authority.facts
        if current == nil {
            try connection.query("""
                INSERT INTO budgets (customer_id, partner_id, distributor_id, amount, period, on_exhaustion, agreement_version,
                                     period_start, spent, set_by_kind, set_by_id)
                VALUES ($1, $2, $3, $4::numeric, $5, $6, $7, $8, $9::numeric, $10, $11)
                """, [
                    locked.id, owners.partnerID, owners.distributorID, amount, period.rawValue, policy.rawValue, agreement, start,
                    spent, actor.actorKind, actor.id,
                ])
        } else {
            try connection.query("""
                UPDATE budgets SET amount = $2::numeric, period = $3, on_exhaustion = $4, agreement_version = $5, period_start = $6,
                                   spent = $7::numeric, thresholds_reached = '{}', set_by_kind = $8, set_by_id = $9, updated_at = now()
                WHERE customer_id = $1
                """, [locked.id, amount, period.rawValue, policy.rawValue, agreement, start, spent, actor.actorKind, actor.id])
        }
        return policyChanged
    }

    /// Removes the customer's budget; the budget's own restriction, if one is active, is
    /// lifted with it. `not_found` when there is none.
    public func remove(customerID: CustomerID, verificationCode: String?, context: ChangeContext) async throws -> RemovedBudget {
        try Restrictions.requireActorKind(context.principal, to: "remove its budget")
        return try await change(customerID, code: verificationCode, context: context) { locked, connection in
            guard !(try connection.query("DELETE FROM budgets WHERE customer_id = $1 RETURNING 1", [customerID])).isEmpty else {
                throw PartnerError.notFound("a budget")
            }
            let enforcement = try BudgetSettlement.enforce(
                locked, budget: nil, trigger: .removed(requestID: context.requestID), connection)
            try AuditLog.append(connection, context, action: "budget.removed", target: ("customer", customerID.uuid), scope: locked.scope)
            return (RemovedBudget(customerId: customerID, restrictionLifted: enforcement == .lifted), enforcement)
        }
    }
}
