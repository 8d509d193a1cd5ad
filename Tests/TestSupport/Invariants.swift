import Foundation
import Postgres

/// The invariants of DESIGN §3 as SQL: each query counts the rows that break one. Tests run
/// them after every scenario (`assertInvariants`), so a rule is checked against what the
/// database holds, not against what a service answered.
public enum Invariants {
    public struct Check: Sendable {
        public let name: String
        public let sql: String
    }

    public static let checks: [Check] = [
        // 1. A resource frozen by a restriction is pay-per-use, has its deadline, and belongs
        //    to a frozen customer whose active restriction is purchase_and_resources — the one
        //    that froze it. One frozen for its expiry is prepaid and frozen after its grace.
        Check(name: "frozen resource has frozen_at, retention_until and a reason that fits its billing mode", sql: """
            SELECT count(*) FROM resources
            WHERE state = 'frozen' AND (frozen_at IS NULL OR retention_until IS NULL
                  OR frozen_reason IS DISTINCT FROM CASE billing_mode WHEN 'pay_per_use' THEN 'restriction' ELSE 'expired' END)
            """),
        Check(name: "resource frozen by a restriction not under the customer's active purchase_and_resources restriction", sql: """
            SELECT count(*) FROM resources r
            JOIN customers c ON c.id = r.customer_id
            LEFT JOIN restrictions x ON x.customer_id = r.customer_id AND x.lifted_at IS NULL
            WHERE r.state = 'frozen' AND r.frozen_reason = 'restriction'
              AND (c.status <> 'frozen' OR x.type IS DISTINCT FROM 'purchase_and_resources' OR r.restriction_id IS DISTINCT FROM x.id)
            """),
        Check(name: "active pay-per-use resource of a customer frozen by purchase_and_resources", sql: """
            SELECT count(*) FROM resources r JOIN customers c ON c.id = r.customer_id
            WHERE c.status = 'frozen' AND r.billing_mode = 'pay_per_use' AND r.state = 'active'
            """),
        // 3. Prepaid resources are frozen and released only by their own expiry (DESIGN §9):
        //    expired after expires_at, frozen after grace_until, never by a restriction.
        Check(name: "prepaid resource frozen or released other than by its own expiry", sql: """
            SELECT count(*) FROM resources
            WHERE billing_mode = 'prepaid' AND state IN ('frozen', 'released')
              AND (frozen_reason IS DISTINCT FROM 'expired' OR restriction_id IS NOT NULL OR grace_until IS NULL
                   OR grace_until < expires_at OR frozen_at < grace_until OR retention_until < grace_until)
            """),
        Check(name: "expired resource that is not prepaid, or without a grace deadline after its expiry", sql: """
            SELECT count(*) FROM resources
            WHERE state = 'expired' AND (billing_mode <> 'prepaid' OR grace_until IS NULL OR grace_until < expires_at
                                         OR frozen_at IS NOT NULL OR retention_until IS NOT NULL)
            """),
        // 4. Released only after the deadline, and without its data.
        Check(name: "released resource before its retention_until", sql: """
            SELECT count(*) FROM resources
            WHERE state = 'released' AND (released_at IS NULL OR retention_until IS NULL OR released_at < retention_until)
            """),
        Check(name: "released resource still has a resource_data row", sql: """
            SELECT count(*) FROM resources r JOIN resource_data d ON d.customer_id = r.customer_id AND d.resource_id = r.id
            WHERE r.state = 'released'
            """),
        Check(name: "active resource carries freeze or release fields", sql: """
            SELECT count(*) FROM resources
            WHERE state = 'active' AND (frozen_at IS NOT NULL OR retention_until IS NOT NULL OR released_at IS NOT NULL
                                        OR frozen_reason IS NOT NULL OR grace_until IS NOT NULL)
            """),
        // The customer's status is derived from its active restriction (at most one).
        Check(name: "customer status does not match its active restriction", sql: """
            SELECT count(*) FROM customers c
            LEFT JOIN restrictions x ON x.customer_id = c.id AND x.lifted_at IS NULL
            WHERE c.status <> CASE x.type WHEN 'purchase' THEN 'purchase_restricted'
                                          WHEN 'purchase_and_resources' THEN 'frozen'
                                          ELSE 'normal' END
            """),
        Check(name: "customer has more than one active restriction", sql: """
            SELECT count(*) FROM (SELECT customer_id FROM restrictions WHERE lifted_at IS NULL
                                  GROUP BY customer_id HAVING count(*) > 1) t
            """),
        Check(name: "purchase_and_resources restriction without its agreement version", sql: """
            SELECT count(*) FROM restrictions WHERE type = 'purchase_and_resources' AND agreement_version IS NULL
            """),
        // Audit and outbox rows are placed by their most specific tenant (schema 0009): a
        // customer's rows on its shard on Citus.
        Check(name: "audit or outbox row whose tenant_id is not its most specific tenant", sql: """
            SELECT (SELECT count(*) FROM audit_events
                    WHERE tenant_id IS DISTINCT FROM COALESCE(customer_id, partner_id, distributor_id, actor_id))
                 + (SELECT count(*) FROM outbox_events
                    WHERE tenant_id IS DISTINCT FROM COALESCE(customer_id, partner_id, distributor_id))
            """),
        // 5. Each state change has exactly one audit event (joined set-wise: the checks
        //    run after scenarios with 10^4 resources).
        Check(name: "restriction without exactly one customer.restricted audit event", sql: """
            SELECT count(*) FROM restrictions x
            LEFT JOIN (SELECT customer_id, details->>'restriction_id' AS restriction_id, count(*) AS n
                       FROM audit_events WHERE action = 'customer.restricted' GROUP BY 1, 2) a
                   ON a.customer_id = x.customer_id AND a.restriction_id = x.id::text
            WHERE a.n IS DISTINCT FROM 1
            """),
        Check(name: "lifted restriction without exactly one customer.unrestricted audit event", sql: """
            SELECT count(*) FROM restrictions x
            LEFT JOIN (SELECT customer_id, details->>'restriction_id' AS restriction_id, count(*) AS n
                       FROM audit_events WHERE action = 'customer.unrestricted' GROUP BY 1, 2) a
                   ON a.customer_id = x.customer_id AND a.restriction_id = x.id::text
            WHERE x.lifted_at IS NOT NULL AND a.n IS DISTINCT FROM 1
            """),
        Check(name: "released resource without exactly one resource.released audit event", sql: """
            SELECT count(*) FROM resources r
            LEFT JOIN (SELECT customer_id, target_id, count(*) AS n
                       FROM audit_events WHERE action = 'resource.released' GROUP BY 1, 2) a
                   ON a.customer_id = r.customer_id AND a.target_id = r.id
            WHERE r.state = 'released' AND a.n IS DISTINCT FROM 1
            """),
        // A prepaid resource never renewed has one resource.expired event if it ever expired
        // and one resource.frozen event if it was ever frozen (a renewal starts the cycle again).
        Check(name: "prepaid resource never renewed without exactly one audit event per expiry and freeze", sql: """
            SELECT count(*) FROM resources r
            LEFT JOIN (SELECT customer_id, target_id, count(*) FILTER (WHERE action = 'resource.expired') AS expired,
                              count(*) FILTER (WHERE action = 'resource.frozen') AS frozen
                       FROM audit_events WHERE action IN ('resource.expired', 'resource.frozen') GROUP BY 1, 2) a
                   ON a.customer_id = r.customer_id AND a.target_id = r.id
            WHERE r.billing_mode = 'prepaid'
              AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = r.customer_id AND o.resource_id = r.id AND o.action = 'renew')
              AND (coalesce(a.expired, 0) <> CASE WHEN r.grace_until IS NOT NULL THEN 1 ELSE 0 END
                   OR coalesce(a.frozen, 0) <> CASE WHEN r.frozen_reason = 'expired' THEN 1 ELSE 0 END)
            """),
        Check(name: "resource.released audit event for a resource that is not released", sql: """
            SELECT count(*) FROM audit_events a
            LEFT JOIN resources r ON r.customer_id = a.customer_id AND r.id = a.target_id
            WHERE a.action = 'resource.released' AND r.state IS DISTINCT FROM 'released'
            """),
        Check(name: "order without exactly one order audit event", sql: """
            SELECT count(*) FROM orders o
            LEFT JOIN (SELECT customer_id, action, details->>'order_id' AS order_id, count(*) AS n
                       FROM audit_events WHERE action LIKE 'order.%' GROUP BY 1, 2, 3) a
                   ON a.customer_id = o.customer_id AND a.action = 'order.' || o.action AND a.order_id = o.id::text
            WHERE a.n IS DISTINCT FROM 1
            """),
        Check(name: "partner whose grants and revokes do not match its freeze_permission audit events one to one", sql: """
            SELECT count(*) FROM partners p
            WHERE (SELECT count(*) FROM freeze_permission_grants g WHERE g.partner_id = p.id)
                  <> (SELECT count(*) FROM audit_events a WHERE a.action = 'freeze_permission.granted' AND a.target_id = p.id)
               OR (SELECT count(*) FROM freeze_permission_grants g WHERE g.partner_id = p.id AND g.revoked_at IS NOT NULL)
                  <> (SELECT count(*) FROM audit_events a WHERE a.action = 'freeze_permission.revoked' AND a.target_id = p.id)
            """),
    ]

    /// `name → rows breaking it`, for each invariant that does not hold.
    public static func violations(_ connection: PostgresConnection) throws -> [String: Int] {
        // Fresh statistics first: right after bulk writes, before autovacuum has analyzed,
        // the planner can pick nested loops over thousands of rows and a check that takes
        // milliseconds runs into the statement timeout on a loaded machine.
        try connection.simpleQuery("ANALYZE resources, resource_data, audit_events, restrictions, customers, orders")
        var broken: [String: Int] = [:]
        for check in checks {
            let count: Int = try connection.query(check.sql).single().decode(0)
            if count != 0 { broken[check.name] = count }
        }
        return broken
    }
}
