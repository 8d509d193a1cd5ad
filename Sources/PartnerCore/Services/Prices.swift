import Foundation
import Postgres

/// The operator's price list (DESIGN §10): what a unit of usage and a month of a prepaid
/// term of each resource type cost. A price applies to records and orders written after it
/// is set; each stores what it cost then. Every principal reads the list.
public struct Prices: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let columns = "resource_type, usage_unit_price::text, monthly_price::text, updated_at"

    static func price(_ row: PostgresRow) throws -> Price {
        Price(resourceType: try row.decode(0), usageUnitPrice: try row.decode(1), monthlyPrice: try row.decode(2), updatedAt: try row.decode(3))
    }

    /// Every priced type, by name (the list is short: never paged).
    public func list() async throws -> [Price] {
        try await client.withTransaction(in: .all, readOnly: true) { connection in
            try connection.query("SELECT \(Self.columns) FROM prices ORDER BY resource_type").map(Self.price)
        }
    }

    /// Sets one type's prices (decimal strings, up to six decimals), audited with the old
    /// and new values. The update takes the new row's time (`excluded`): on Citus `DO UPDATE
    /// SET` may call no function that is not IMMUTABLE, `now()` included.
    public func set(resourceType: String, usageUnitPrice: String?, monthlyPrice: String?, context: ChangeContext) async throws -> Price {
        try context.principal.requireOperator()
        let type = try Validate.resourceType(resourceType)
        let usage = try Validate.decimal(usageUnitPrice, field: "usage_unit_price", fractionDigits: 6)
        let monthly = try Validate.decimal(monthlyPrice, field: "monthly_price", fractionDigits: 6)
        return try await client.withTransaction(answering: context) { connection in
            let old = try connection.query("SELECT \(Self.columns) FROM prices WHERE resource_type = $1 FOR UPDATE", [type]).first
                .map(Self.price)
            let new = try Self.price(try connection.query("""
                INSERT INTO prices (resource_type, usage_unit_price, monthly_price) VALUES ($1, $2::numeric, $3::numeric)
                ON CONFLICT (resource_type) DO UPDATE
                SET usage_unit_price = excluded.usage_unit_price, monthly_price = excluded.monthly_price,
                    updated_at = excluded.updated_at
                RETURNING \(Self.columns)
                """, [type, usage, monthly]).single())
            func prices(_ price: Price?) -> JSONValue {
                guard let price else { return .null }
                return .object(["usage_unit_price": .string(price.usageUnitPrice), "monthly_price": .string(price.monthlyPrice)])
            }
            try AuditLog.append(
                connection, context, action: "price.set", target: ("price", nil), scope: TenantScope(distributorID: nil),
                details: ["resource_type": .string(type), "before": prices(old), "after": prices(new)])
            return new
        }
    }
}
