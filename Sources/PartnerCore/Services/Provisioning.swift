import Foundation
import Postgres

/// What `createResources` was asked to make.
public struct ResourceProvisioning: Sendable {
    public var type: String
    public var billingMode: BillingMode
    public var expiresAt: Date?
    public var dataBytes: Int?
    public var count: Int?

    public init(type: String, billingMode: BillingMode, expiresAt: Date? = nil, dataBytes: Int? = nil, count: Int? = nil) {
        self.type = type
        self.billingMode = billingMode
        self.expiresAt = expiresAt
        self.dataBytes = dataBytes
        self.count = count
    }
}

/// The answer to a provisioning request: the id for one resource, the count for many.
public struct ProvisionedResources: Sendable, Codable, Equatable {
    public var id: ResourceID?
    public var created: Int
}

/// Operator provisioning: tenants, customers and (bulk) resources. Not purchases: these go
/// around the purchase gate, except that nothing is added to a frozen customer.
public struct Provisioning: Sendable {
    public static let maximumBulkCount = 100_000

    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func createDistributor(name: String, retentionSeconds: Int?, context: ChangeContext) async throws -> Distributor {
        try context.principal.requireOperator()
        let name = try Validate.name(name)
        let retention = try retentionSeconds.map { try Validate.retention($0) }
        return try await client.withTransaction(answering: context) { connection in
            let row = try connection.query(
                "INSERT INTO distributors (name, retention_seconds) VALUES ($1, $2) RETURNING \(Self.distributorColumns)",
                [name, retention]
            ).single()
            let distributor = try Self.distributor(row)
            try AuditLog.append(
                connection, context, action: "distributor.created", target: ("distributor", distributor.id.uuid),
                scope: TenantScope(distributorID: distributor.id), details: ["name": .string(name)])
            return distributor
        }
    }

    public func createPartner(distributorID: DistributorID, name: String, context: ChangeContext) async throws -> Partner {
        try context.principal.requireOperator()
        let name = try Validate.name(name)
        return try await client.withTransaction(answering: context) { connection in
            let rows = try connection.query(
                "INSERT INTO partners (distributor_id, name) SELECT id, $2 FROM distributors WHERE id = $1 RETURNING \(Self.partnerColumns)",
                [distributorID, name])
            guard let row = rows.first else { throw PartnerError.notFound("the distributor") }
            let partner = try Self.partner(row)
            try AuditLog.append(
                connection, context, action: "partner.created", target: ("partner", partner.id.uuid),
                scope: TenantScope(distributorID: distributorID, partnerID: partner.id), details: ["name": .string(name)])
            return partner
        }
    }

    /// Creates a customer and answers it as `GET /v1/customers/{cid}` would.
    public func createCustomer(partnerID: PartnerID, name: String, level: CustomerLevel = .v0, context: ChangeContext) async throws -> Customer {
        try context.principal.requireOperator()
        let name = try Validate.name(name)
        // The id is chosen here and the partner read first, so the insert names its
        // customer: on Citus a single-shard statement, not an INSERT … SELECT planned
        // through the coordinator. The foreign key still guards the partner.
        let id = CustomerID.random()
        return try await client.withTransaction(answering: context) { connection in
            guard let partner = try connection.query("SELECT distributor_id FROM partners WHERE id = $1", [partnerID]).first else {
                throw PartnerError.notFound("the partner")
            }
            let distributorID: DistributorID = try partner.decode(0)
            try connection.execute(
                "INSERT INTO customers (id, partner_id, distributor_id, name, level) VALUES ($1, $2, $3, $4, $5)",
                [id, partnerID, distributorID, name, level.rawValue])
            try AuditLog.append(
                connection, context, action: "customer.created", target: ("customer", id.uuid),
                scope: TenantScope(distributorID: distributorID, partnerID: partnerID, customerID: id),
                details: ["name": .string(name), "level": .string(level.rawValue)])
            var customer = try Customers.customer(
                try connection.query("\(Customers.selectSQL) WHERE c.id = $1", [id]).single(), for: context.principal)
            customer.resourceCounts = .zero
            return customer
        }
    }

    /// Sets a customer's level (DESIGN §9), audited with the old and the new level. The new
    /// level's policy applies to freezes, expiries and grace ends from now on.
    public func updateCustomer(id: CustomerID, level: CustomerLevel?, context: ChangeContext) async throws -> Customer {
        try context.principal.requireOperator()
        guard let level else { throw PartnerError.validation("nothing to change: give level") }
        return try await client.withTransaction(answering: context) { connection in
            guard let old = try connection.query(
                "SELECT level, partner_id, distributor_id FROM customers WHERE id = $1 FOR UPDATE", [id]).first
            else { throw PartnerError.notFound("the customer") }
            try connection.execute("UPDATE customers SET level = $2, updated_at = now() WHERE id = $1", [id, level.rawValue])
            try AuditLog.append(
                connection, context, action: "customer.updated", target: ("customer", id.uuid),
                scope: TenantScope(distributorID: try old.decode(2), partnerID: try old.decode(1), customerID: id),
                details: ["level": .string(level.rawValue), "previous_level": .string(try old.decode(0))])
            return try Customers.customer(
                try connection.query("\(Customers.selectSQL) WHERE c.id = $1", [id]).single(), for: context.principal)
        }
    }

    /// Inserts `count` identical resources (and their data rows) in one call of
    /// `provision_resources` (schema 0012): one set-based statement on PostgreSQL, chunks of
    /// 1,000-row INSERT … VALUES on Citus (where an INSERT … SELECT is a COPY, refused under
    /// row-level security).
    static let createResourcesSQL = """
        SELECT status, partner_id, distributor_id, created, first_id
        FROM provision_resources($1, $2, $3, $4, $5::integer, $6)
        """

    public func createResources(
        customerID: CustomerID, _ request: ResourceProvisioning, context: ChangeContext
    ) async throws -> ProvisionedResources {
        try context.principal.requireOperator()
        let type = try Validate.resourceType(request.type)
        let count = request.count ?? 1
        guard (1...Self.maximumBulkCount).contains(count) else {
            throw PartnerError.validation("count must be between 1 and \(Self.maximumBulkCount)")
        }
        let dataBytes = request.dataBytes ?? 0
        guard dataBytes >= 0 else { throw PartnerError.validation("data_bytes must not be negative") }
        let expiresAt: Date?
        switch request.billingMode {
        case .prepaid:
            // A prepaid resource without a stated term runs for a month.
            expiresAt = try request.expiresAt.map(Validate.expiry) ?? Date().addingTimeInterval(30 * 86_400)
        case .payPerUse:
            guard request.expiresAt == nil else {
                throw PartnerError.validation("expires_at applies to prepaid resources only")
            }
            expiresAt = nil
        }
        return try await client.withTransaction(answering: context) { connection in
            // A bulk import of up to 10^5 resources (and their data rows) is one statement by
            // design; on a busy machine it can outlast the request default of 30 s.
            try connection.simpleQuery("SET LOCAL statement_timeout = '300s'")
            let rows = try connection.query(
                Self.createResourcesSQL, [customerID, type, request.billingMode.rawValue, expiresAt, count, dataBytes])
            guard let row = rows.first else { throw PartnerError.notFound("the customer") }
            guard try row.decode(0, as: String.self) != CustomerStatus.frozen.rawValue else {
                throw PartnerError(.purchaseRestricted, "the customer's resources are frozen; lift the restriction before adding resources")
            }
            let created: Int = try row.decode(3)
            let firstID = count == 1 ? try row.decode(4, as: ResourceID?.self) : nil
            try AuditLog.append(
                connection, context, action: "resources.provisioned", target: ("customer", customerID.uuid),
                scope: TenantScope(distributorID: try row.decode(2), partnerID: try row.decode(1), customerID: customerID),
                details: ["count": .number(Double(created)), "type": .string(type), "billing_mode": .string(request.billingMode.rawValue)])
            return ProvisionedResources(id: firstID, created: created)
        }
    }

    /// Changes a distributor's status or retention period.
    /// `clearRetention` removes its own retention, so the customers' level policies decide.
    public func updateDistributor(
        id: DistributorID, status: TenantStatus?, retentionSeconds: Int?, clearRetention: Bool = false, context: ChangeContext
    ) async throws -> Distributor {
        try await updateTenant(
            kind: "distributor", columns: Self.distributorColumns, id: id.uuid, status: status, retentionSeconds: retentionSeconds,
            clearRetention: clearRetention, context: context, decode: Self.distributor, scope: { TenantScope(distributorID: $0.id) })
    }

    /// Changes a partner's status or its own retention period.
    /// `clearRetention` removes its own retention, so the distributor's applies.
    public func updatePartner(
        id: PartnerID, status: TenantStatus?, retentionSeconds: Int?, clearRetention: Bool = false, context: ChangeContext
    ) async throws -> Partner {
        try await updateTenant(
            kind: "partner", columns: Self.partnerColumns, id: id.uuid, status: status, retentionSeconds: retentionSeconds,
            clearRetention: clearRetention, context: context, decode: Self.partner, scope: { TenantScope(distributorID: $0.distributorId, partnerID: $0.id) })
    }

    /// The one update path of both tenant tiers: operator only, something to change, a valid
    /// retention, one audited UPDATE. `kind` is "distributor" or "partner", never input.
    private func updateTenant<Tenant: Sendable & Encodable>(
        kind: String, columns: String, id: UUID, status: TenantStatus?, retentionSeconds: Int?, clearRetention: Bool,
        context: ChangeContext,
        decode: @escaping @Sendable (PostgresRow) throws -> Tenant, scope: @escaping @Sendable (Tenant) -> TenantScope
    ) async throws -> Tenant {
        try context.principal.requireOperator()
        guard status != nil || retentionSeconds != nil || clearRetention else {
            throw PartnerError.validation("nothing to change: give status or retention_seconds")
        }
        let retention = try retentionSeconds.map { try Validate.retention($0) }
        return try await client.withTransaction(answering: context) { connection in
            let rows = try connection.query(
                """
                UPDATE \(kind)s SET status = COALESCE($2, status),
                                    retention_seconds = CASE WHEN $4 THEN NULL ELSE COALESCE($3, retention_seconds) END
                WHERE id = $1 RETURNING \(columns)
                """, [id, status?.rawValue, retention, clearRetention])
            guard let row = rows.first else { throw PartnerError.notFound("the \(kind)") }
            let tenant = try decode(row)
            try AuditLog.append(
                connection, context, action: "\(kind).updated", target: (kind, id), scope: scope(tenant),
                details: Self.changes(status: status, retentionSeconds: retention, clearRetention: clearRetention))
            return tenant
        }
    }

    static func changes(status: TenantStatus?, retentionSeconds: Int?, clearRetention: Bool) -> [String: JSONValue] {
        var details: [String: JSONValue] = [:]
        if let status { details["status"] = .string(status.rawValue) }
        if let retentionSeconds { details["retention_seconds"] = .number(Double(retentionSeconds)) }
        if clearRetention { details["retention_seconds"] = .null }
        return details
    }

    static let distributorColumns = "id, name, status, retention_seconds, verification_code_required, created_at"
    static let partnerColumns = "id, distributor_id, name, status, retention_seconds, verification_code_required, created_at"

    static func distributor(_ row: PostgresRow) throws -> Distributor {
        Distributor(
            id: try row.decode(0), name: try row.decode(1),
            status: try row.decode(2, as: TenantStatus.self),
            retentionSeconds: try row.decode(3, as: Int?.self), verificationCodeRequired: try row.decode(4), createdAt: try row.decode(5))
    }

    static func partner(_ row: PostgresRow) throws -> Partner {
        Partner(
            id: try row.decode(0), distributorId: try row.decode(1), name: try row.decode(2),
            status: try row.decode(3, as: TenantStatus.self),
            retentionSeconds: try row.decode(4, as: Int?.self), verificationCodeRequired: try row.decode(5),
            createdAt: try row.decode(6))
    }
}
