import Foundation
import Postgres

/// A customer row locked for a change of its restriction, with the facts the rules need.
///
/// The customer is locked `FOR UPDATE`; its partner and distributor `FOR SHARE`, which
/// conflicts with grant/revoke (partner `FOR UPDATE`) and with suspensions (`UPDATE`). The
/// grant is read by a second statement, after the locks are held, so it sees any grant
/// change that committed while this transaction waited.
struct LockedCustomer {
    var id: CustomerID
    var status: CustomerStatus
    /// A freeze's retention (DESIGN §9): the partner's own, else the distributor's, else the
    /// customer's level policy, else 15 days.
    var retentionSeconds: Int
    /// The grace of the customer's level: when its active prepaid resources would be frozen.
    var prepaidGraceSeconds: Int
    var authority: Authority
    /// Whether the acting principal has the verification-code setting on.
    var actorRequiresCode: Bool

    /// The lock, restricted to the customers the principal sees (`Access`), so another
    /// tenant's customer is never locked: it is `not_found` before any lock is taken.
    ///
    /// `locking: false` reads the same facts without a lock, for the impact preview: a
    /// read-only transaction that must change nothing, not even a row's lock bits.
    static func lockSQL(visibleTo principal: Principal, locking: Bool = true) -> (sql: String, bind: UUID) {
        let visible = Access.customerFilter(principal, alias: "c", parameter: "$2")
        return (factsSQL(visible: visible.sql, locking: locking), visible.bind)
    }

    static func factsSQL(visible: String, locking: Bool) -> String {
        """
        SELECT c.status, c.partner_id, p.distributor_id, p.status, d.status,
               COALESCE(p.retention_seconds, d.retention_seconds, rp.freeze_retention_seconds, \(RetentionPolicy.defaultSeconds)),
               p.verification_code_required, d.verification_code_required,
               COALESCE(rp.prepaid_grace_seconds, \(RetentionPolicy.defaultSeconds))
        FROM customers c
        JOIN partners p ON p.id = c.partner_id
        JOIN distributors d ON d.id = p.distributor_id
        LEFT JOIN retention_policies rp ON rp.level = c.level
        WHERE c.id = $1 AND \(visible)
        \(locking ? "FOR UPDATE OF c FOR SHARE OF p, d" : "")
        """
    }

    static func lock(
        _ customerID: CustomerID, for principal: Principal, locking: Bool = true, _ connection: PostgresConnection
    ) throws -> LockedCustomer {
        let (sql, visibleBind) = lockSQL(visibleTo: principal, locking: locking)
        guard let row = try connection.query(sql, [customerID, visibleBind]).first else {
            throw PartnerError.notFound("the customer")
        }
        let locked = try facts(customerID, row, actorKind: principal.kind, connection)
        let owners = locked.authority.facts
        guard Access.canSee(principal, customerID: customerID, partnerID: owners.partnerID, distributorID: owners.distributorID) else {
            throw PartnerError.notFound("the customer")
        }
        if let refusal = locked.authority.refusal(for: principal) { throw refusal }
        return locked
    }

    /// The batch jobs' lock (actor system, DESIGN §10): the same row locks and facts, for any
    /// customer, with no principal's authority checked. `nil`: no such customer.
    static func lockForSystem(_ customerID: CustomerID, _ connection: PostgresConnection) throws -> LockedCustomer? {
        guard let row = try connection.query(factsSQL(visible: "true", locking: true), [customerID]).first else { return nil }
        return try facts(customerID, row, actorKind: nil, connection)
    }

    static let grantSQL = "SELECT EXISTS (SELECT 1 FROM freeze_permission_grants WHERE partner_id = $1 AND revoked_at IS NULL)"

    /// The facts of a locked row; the grant is read after the lock (see above).
    private static func facts(
        _ customerID: CustomerID, _ row: PostgresRow, actorKind: Principal.Kind?, _ connection: PostgresConnection
    ) throws -> LockedCustomer {
        let partnerID: PartnerID = try row.decode(1)
        let distributorID: DistributorID = try row.decode(2)
        let granted: Bool = try connection.query(grantSQL, [partnerID]).single().decode(0)
        let authority = Authority(facts: .init(
            partnerID: partnerID, distributorID: distributorID,
            partnerStatus: try row.decode(3, as: TenantStatus.self),
            distributorStatus: try row.decode(4, as: TenantStatus.self),
            partnerHoldsGrant: granted))
        let requiresCode: Bool =
            switch actorKind {
            case .partner: try row.decode(6)
            case .distributor: try row.decode(7)
            default: false
            }
        return LockedCustomer(
            id: customerID, status: try row.decode(0, as: CustomerStatus.self),
            retentionSeconds: try row.decode(5), prepaidGraceSeconds: try row.decode(8), authority: authority,
            actorRequiresCode: requiresCode)
    }

    func activeRestriction(_ connection: PostgresConnection) throws -> (id: RestrictionID, type: RestrictionType, origin: RestrictionOrigin)? {
        guard let row = try connection.query(
            "SELECT id, type, origin FROM restrictions WHERE customer_id = $1 AND lifted_at IS NULL", [id]).first
        else { return nil }
        return (try row.decode(0), try row.decode(1, as: RestrictionType.self), try row.decode(2, as: RestrictionOrigin.self))
    }
}

extension LockedCustomer {
    /// The tenants an event or audit row of this customer names.
    var scope: TenantScope {
        TenantScope(distributorID: authority.facts.distributorID, partnerID: authority.facts.partnerID, customerID: id)
    }
}
