import Foundation
import Postgres

/// Scheduled lifts (DESIGN §9): a restriction applied with `lift_at` is lifted by the batch
/// job once that time has passed, as actor `system`, unless it was lifted earlier.
///
/// Each lift is the lift a person makes (`apply_unfreeze`, the same customer lock, audit and
/// outbox events), after re-reading under the customer's `FOR UPDATE` lock that the
/// restriction is still the active one and due: a person's unfreeze, or another sweeper,
/// that got the lock first leaves nothing to lift, so exactly one lift happens.
struct ScheduledLifts: Sendable {
    let client: PostgresClient

    /// Restrictions due for their scheduled lift, oldest first, `$1` at a time.
    static let dueSQL = """
        SELECT customer_id, id FROM restrictions WHERE lifted_at IS NULL AND lift_at <= now() ORDER BY lift_at, id LIMIT $1
        """

    static let countSQL = "SELECT count(*) FROM restrictions WHERE lifted_at IS NULL AND lift_at <= now()"

    /// The reason recorded on a scheduled lift.
    static let reason = "scheduled lift"

    func due(limit: Int) async throws -> [(customerID: CustomerID, restrictionID: RestrictionID)] {
        try await client.withTransaction(in: .all, readOnly: true) { connection in
            try connection.query(Self.dueSQL, [limit]).map { try $0.decode((CustomerID, RestrictionID).self) }
        }
    }

    /// Lifts one restriction if it is still active and due; answers whether it did.
    func lift(customerID: CustomerID, restrictionID: RestrictionID) async throws -> Bool {
        try await client.withTransaction(in: .all) { connection in
            guard let locked = try LockedCustomer.lockForSystem(customerID, connection) else { return false }
            let due = try connection.query(
                "SELECT 1 FROM restrictions WHERE customer_id = $1 AND id = $2 AND lifted_at IS NULL AND lift_at <= now()",
                [customerID, restrictionID])
            guard !due.isEmpty else { return false }
            _ = try Restrictions.lift(locked, restrictionID: restrictionID, reason: Self.reason, actor: .system, requestID: nil, connection)
            return true
        }
    }
}

/// The actor kind the batch jobs' own changes are recorded under.
enum ActorKind {
    static let system = "system"
}

extension ActorRef {
    /// The batch jobs (scheduled lifts, budgets): `system`, which has no id.
    static let system = ActorRef(kind: ActorKind.system, id: nil)
}
