import Foundation
import Postgres

/// The retention policy of each customer level (DESIGN §9): every principal reads them, the
/// operator sets them.
public struct RetentionPolicies: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let columns = "level, freeze_retention_seconds, prepaid_grace_seconds, prepaid_retention_seconds, updated_at"

    static func policy(_ row: PostgresRow) throws -> RetentionPolicy {
        RetentionPolicy(
            level: try row.decode(0, as: CustomerLevel.self), freezeRetentionSeconds: try row.decode(1), prepaidGraceSeconds: try row.decode(2),
            prepaidRetentionSeconds: try row.decode(3), updatedAt: try row.decode(4))
    }

    /// All six levels, v0 first.
    public func list() async throws -> [RetentionPolicy] {
        try await client.withTransaction(in: .all, readOnly: true) { connection in
            try connection.query("SELECT \(Self.columns) FROM retention_policies ORDER BY level").map(Self.policy)
        }
    }

    /// Replaces one level's periods (each 0 to 365 days), audited with the old and new values.
    public func update(
        level: CustomerLevel, freezeRetentionSeconds: Int, prepaidGraceSeconds: Int, prepaidRetentionSeconds: Int,
        context: ChangeContext
    ) async throws -> RetentionPolicy {
        try context.principal.requireOperator()
        let freeze = try Validate.retention(freezeRetentionSeconds, field: "freeze_retention_seconds")
        let grace = try Validate.retention(prepaidGraceSeconds, field: "prepaid_grace_seconds")
        let retention = try Validate.retention(prepaidRetentionSeconds, field: "prepaid_retention_seconds")
        return try await client.withTransaction(answering: context) { connection in
            let old = try Self.policy(try connection.query(
                "SELECT \(Self.columns) FROM retention_policies WHERE level = $1 FOR UPDATE", [level.rawValue]).single())
            let new = try Self.policy(try connection.query("""
                UPDATE retention_policies
                SET freeze_retention_seconds = $2, prepaid_grace_seconds = $3, prepaid_retention_seconds = $4, updated_at = now()
                WHERE level = $1 RETURNING \(Self.columns)
                """, [level.rawValue, freeze, grace, retention]).single())
            func periods(_ policy: RetentionPolicy) -> JSONValue {
                .object([
                    "freeze_retention_seconds": .number(Double(policy.freezeRetentionSeconds)),
                    "prepaid_grace_seconds": .number(Double(policy.prepaidGraceSeconds)),
                    "prepaid_retention_seconds": .number(Double(policy.prepaidRetentionSeconds)),
                ])
            }
            try AuditLog.append(
                connection, context, action: "retention_policy.updated", target: ("retention_policy", nil),
                scope: TenantScope(distributorID: nil),
                details: ["level": .string(level.rawValue), "before": periods(old), "after": periods(new)])
            return new
        }
    }
}
