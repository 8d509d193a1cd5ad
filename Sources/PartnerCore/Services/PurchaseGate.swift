import Foundation
import Postgres

/// An order a customer places: buy a new resource, renew a prepaid one, or change one.
public enum OrderRequest: Sendable {
    case buy(type: String, billingMode: BillingMode, termMonths: Int?, spec: JSONValue?)
    case renew(resourceID: ResourceID, termMonths: Int)
    case change(resourceID: ResourceID, spec: JSONValue)
}

public struct OrderResult: Sendable, Codable, Equatable {
    public var orderId: UUID
    public var action: String
    public var resourceId: ResourceID
    public var resource: Resource
}

public struct UsageResult: Sendable, Codable, Equatable {
    public var resourceId: ResourceID
    public var accepted: Bool
}

/// The one gate every purchase goes through (DESIGN §2, Purchase gate).
///
/// Each order locks the customer row `FOR SHARE` before it reads the status. A freeze
/// holds the same row `FOR UPDATE`, so an order either commits before the freeze commits
/// or, after waiting, re-reads the row, sees the restriction and is refused: no purchase
/// can commit after a restriction has.
///
/// Refusals the database just gave are answered from `refusals` for a moment (see
/// `RefusalCache`); what admits a purchase is always the statement.
public struct PurchaseGate: Sendable {
    let client: PostgresClient
    let refusals: RefusalCache
    /// The largest `spec` accepted, in bytes of JSON: it is stored with the resource and in
    /// the order, and listed 200 resources at a time.
    let maximumSpecBytes: Int

    public init(client: PostgresClient, refusals: RefusalCache, maximumSpecBytes: Int = 16_384) {
        self.client = client
        self.refusals = refusals
        self.maximumSpecBytes = maximumSpecBytes
    }

    /// A validated spec as the JSON the database stores.
    func specJSON(_ spec: JSONValue) throws -> PostgresJSON {
        try Validate.spec(spec)
        let json = try PostgresJSON(spec)
        guard json.text.utf8.count <= maximumSpecBytes else {
            throw PartnerError.validation("spec must be at most \(maximumSpecBytes) bytes of JSON")
        }
        return json
    }

    /// Buy in one call of `buy_resource` (schema 0010): the customer locked `FOR SHARE`,
    /// its status checked, then the resource, its data row, the order and the audit event,
    /// each an INSERT … VALUES, so on Citus the whole buy is one shard in one phase. A waiting
    /// `FOR SHARE` reads the row the freeze committed, so nothing is inserted once the
    /// customer is restricted. Swift `Int` binds as bigint, hence the cast of `$6`.
    ///
    /// The answer is one row while the customer exists: the new resource, or NULLs when
    /// nothing was bought (so a refusal costs one round trip, not two); no row means there
    /// is no such customer.
    static let buySQL = """
        SELECT \(Resources.returningColumns) FROM buy_resource($1, $2, $3, $4, $5, $6::integer, $7, $8)
        """

    public func order(customerID: CustomerID, _ request: OrderRequest, context: ChangeContext) async throws -> OrderResult {
        try Access.requireOwnCustomer(context.principal, customerID, "places its own orders")
        switch request {
        case .buy(let type, let billingMode, let termMonths, let spec):
            return try await buy(customerID, type: type, billingMode: billingMode, termMonths: termMonths, spec: spec, context: context)
        case .renew(let resourceID, let termMonths):
            let months = try Validate.termMonths(termMonths)
            // A renewal can reactivate a resource whose usage was just refused.
            defer { refusals.forget(customerIDs: [customerID]) }
            return try await modify(customerID, resourceID, action: "renew", context: context) { connection, resource in
                guard resource.billingMode == .prepaid else {
                    throw PartnerError(.resourceNotChangeable, "only prepaid resources are renewed; pay-per-use resources run until released")
                }
                try Validate.renewal(from: resource.expiresAt, months: months)
                // The term runs on from the old expiry (DESIGN §9), also for a resource that
                // expired or was frozen for its expiry: that renewal reactivates it. The old
                // expiry is bound from the row this transaction holds FOR UPDATE, so the SET
                // names no column: Citus evaluates such an expression on the coordinator and
                // refuses a STABLE one (timestamptz + interval) over a column.
                // `months` is bound as int8; make_interval wants integer.
                return try connection.query("""
                    UPDATE resources SET expires_at = $4::timestamptz + make_interval(months => $3::integer),
                                         state = 'active', frozen_reason = NULL, frozen_at = NULL, retention_until = NULL,
                                         grace_until = NULL, expiry_warned_at = NULL, retention_warned_at = NULL,
                                         updated_at = now()
                    WHERE customer_id = $1 AND id = $2 RETURNING \(Resources.returningColumns)
                    """, [customerID, resourceID, months, resource.expiresAt]).single()
            } order: { (months, nil) }
        case .change(let resourceID, let spec):
            let json = try specJSON(spec)
            return try await modify(customerID, resourceID, action: "change", context: context) { connection, _ in
                try connection.query("""
                    UPDATE resources SET spec = spec || $3, updated_at = now()
                    WHERE customer_id = $1 AND id = $2 RETURNING \(Resources.returningColumns)
                    """, [customerID, resourceID, json]).single()
            } order: { (nil, json) }
        }
    }

    private func buy(
        _ customerID: CustomerID, type: String, billingMode: BillingMode, termMonths: Int?, spec: JSONValue?, context: ChangeContext
    ) async throws -> OrderResult {
        let type = try Validate.resourceType(type)
        var months: Int? = nil
        if billingMode == .prepaid {
            months = try Validate.termMonths(termMonths ?? 1)
        } else if termMonths != nil {
            throw PartnerError.validation("term_months applies to prepaid resources only")
        }
        let spec = spec ?? .object([:])
        let json = try specJSON(spec)
        let (refusal, ticket) = refusals.refusal(customerID: customerID)
        if refusal == .purchases { throw Self.restricted }
        let resourceID = ResourceID.random()
        let orderID = UUID.random()
        let refusals = self.refusals
        return try await oneStatement(
            Self.buySQL, [customerID, resourceID, type, billingMode.rawValue, json, months, orderID, context.requestID], context
        ) { rows in
            guard let row = rows.first else { throw PartnerError.notFound("the customer") }
            // The customer exists but nothing was bought: it is restricted.
            guard try row.decode(1, as: UUID?.self) != nil else {
                refusals.remember(.purchases, customerID: customerID, ticket: ticket)
                throw Self.restricted
            }
            return OrderResult(orderId: orderID, action: "buy", resourceId: resourceID, resource: try Resources.resource(row))
        }
    }

    /// A write that is one statement. With an `Idempotency-Key` the statement and the stored
    /// answer share a transaction (two more round trips, paid only by requests with a key);
    /// without one it stays a single round trip.
    private func oneStatement<T: Encodable & Sendable>(
        _ sql: String, _ parameters: [(any PostgresEncodable)?], _ context: ChangeContext,
        _ interpret: @escaping @Sendable (PostgresRows) throws -> T
    ) async throws -> T {
        guard context.idempotency != nil else { return try interpret(try await client.query(sql, parameters)) }
        return try await client.withTransaction(answering: context) { connection in try interpret(try connection.query(sql, parameters)) }
    }

    static let restrictedError = PartnerError(
        .purchaseRestricted, "purchases are restricted for this account; contact your partner")

    /// The refusal of a restricted customer's purchase, counted (DESIGN §11).
    static var restricted: PartnerError {
        DomainMetrics.purchaseRefused()
        return restrictedError
    }

    /// Renew and change: lock the customer, check status, lock the resource, apply.
    private func modify(
        _ customerID: CustomerID, _ resourceID: ResourceID, action: String, context: ChangeContext,
        apply: @escaping @Sendable (PostgresConnection, Resource) throws -> PostgresRow,
        order: @escaping @Sendable () -> (Int?, PostgresJSON?)
    ) async throws -> OrderResult {
        try await client.withTransaction(answering: context) { connection in
            let customer = try connection.query("""
                SELECT c.status, c.partner_id, p.distributor_id FROM customers c JOIN partners p ON p.id = c.partner_id
                WHERE c.id = $1 FOR SHARE OF c
                """, [customerID])
            guard let customerRow = customer.first else { throw PartnerError.notFound("the customer") }
            guard try customerRow.decode(0, as: String.self) == CustomerStatus.normal.rawValue else { throw Self.restricted }
            guard let resourceRow = try connection.query(
                "SELECT \(Resources.returningColumns) FROM resources WHERE customer_id = $1 AND id = $2 FOR UPDATE",
                [customerID, resourceID]).first
            else { throw PartnerError.notFound("the resource") }
            let resource = try Resources.resource(resourceRow)
            // A prepaid resource that expired, or was frozen for its expiry, is renewed back to
            // active (DESIGN §9); one frozen by a restriction stays frozen until the lift.
            switch (resource.state, action) {
            case (.released, _): throw PartnerError(.resourceReleased, "the resource was released and no longer exists")
            case (.frozen, "renew") where resource.frozenReason == .expired: break
            case (.frozen, _): throw PartnerError(.resourceFrozen, "the resource is frozen")
            case (.expired, "change"):
                throw PartnerError(.resourceNotChangeable, "the resource expired; renew it before changing it")
            case (.expired, _), (.active, _): break
            }
            let updated = try Resources.resource(try apply(connection, resource))
            let orderID = UUID.random()
            let (months, spec) = order()
            let scope = TenantScope(distributorID: try customerRow.decode(2), partnerID: try customerRow.decode(1), customerID: customerID)
            if action == "renew", let months {
                // Priced at the type's monthly price, with its budget charge (schema 0015).
                try connection.query(
                    "SELECT record_renewal_order($1, $2, $3, $4, $5::integer)", [customerID, orderID, resourceID, resource.type, months])
            } else {
                try connection.execute(
                    "INSERT INTO orders (customer_id, id, action, resource_id, term_months, spec) VALUES ($1, $2, $3, $4, $5, $6)",
                    [customerID, orderID, action, resourceID, months, spec])
            }
            var details: [String: JSONValue] = ["order_id": .string(orderID.lowercasedString)]
            // A renewal that reactivated an expired or frozen-for-expiry resource: the state
            // change is this order's (its one audit event), and integrators hear of it.
            if resource.state != updated.state {
                details["previous_state"] = .string(resource.state.rawValue)
                try Outbox.appendOnShard(connection, type: Outbox.EventType.resourceReactivated, scope: scope, data: [
                    "resource_ids": .array([.string(resourceID.lowercasedString)]),
                    "previous_state": .string(resource.state.rawValue),
                    "frozen_reason": resource.frozenReason.map { .string($0.rawValue) } ?? .null,
                    "expires_at": .string(ISO8601DateFormatter().string(from: updated.expiresAt ?? Date())),
                ])
            }
            try AuditLog.append(
                connection, context, action: "order.\(action)", target: ("resource", resourceID.uuid), scope: scope, details: details)
            return OrderResult(orderId: orderID, action: action, resourceId: resourceID, resource: updated)
        }
    }

    /// Records usage of a resource through `record_usage` (schema 0010): refused while it is
    /// frozen (`resource_frozen`) or once it is released (`resource_released`). The resource
    /// row is locked `FOR SHARE`, so a usage record never commits after the freeze of its
    /// resource; only an active resource is locked (a refused check costs a read).
    static let usageSQL = "SELECT decided_state, recorded, deadline FROM record_usage($1, $2, $3::numeric)"

    public func recordUsage(
        customerID: CustomerID, resourceID: ResourceID, quantity: Double, context: ChangeContext
    ) async throws -> UsageResult {
        try Access.requireOwnCustomer(context.principal, customerID, "reports its own usage")
        // Usage is stored as numeric(20, 6): a smaller quantity would round to 0 and break
        // the table's `quantity > 0` check.
        guard quantity.isFinite, quantity >= 0.000001, quantity <= 1e12 else {
            throw PartnerError.validation("quantity must be a number from 0.000001 to 1000000000000")
        }
        let (refusal, ticket) = refusals.refusal(customerID: customerID, resourceID: resourceID)
        if case .usage(let state) = refusal { throw Self.usageRefused(state) }
        let refusals = self.refusals
        return try await oneStatement(Self.usageSQL, [customerID, resourceID, String(quantity)], context) { rows in
            guard let row = rows.first else { throw PartnerError.notFound("the resource") }
            // Recorded: the resource is active, or expired and in its grace period (DESIGN §9).
            if try row.decode(1, as: Int.self) == 1 { return UsageResult(resourceId: resourceID, accepted: true) }
            // Refused: frozen or released, the only states record_usage refuses in.
            let state = try row.decode(0, as: ResourceState.self)
            guard state == .frozen || state == .released else { throw PartnerError.internal }
            // Frozen until the sweep may release it, at the end of its retention (no retention
            // yet: a freeze won the row just now, so remember nothing).
            refusals.remember(
                .usage(state), customerID: customerID, resourceID: resourceID, ticket: ticket,
                validUntil: state == .frozen ? try row.decode(2, as: Date?.self) ?? .distantPast : nil)
            throw Self.usageRefused(state)
        }
    }

    static func usageRefused(_ state: ResourceState) -> PartnerError {
        state == .released
            ? PartnerError(.resourceReleased, "the resource was released and no longer exists")
            : PartnerError(.resourceFrozen, "the resource is frozen and cannot be used")
    }
}
