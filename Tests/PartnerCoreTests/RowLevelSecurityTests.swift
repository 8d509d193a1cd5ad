import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §7, "a second wall": as the application role, a transaction sees only the tenant
/// it names, whatever its SQL says (schema 0012).
@Suite("Row-level security", .serialized)
struct RowLevelSecurityTests {
    static let tables = ["customers", "restrictions", "resources", "resource_data", "orders", "usage_records", "audit_events", "outbox_events"]

    /// Rows of `table` visible to a transaction of the application role naming `kind`/`id`.
    static func visible(_ app: PostgresClient, _ table: String, _ kind: String?, _ id: (any PostgresEncodable)?) async throws -> Int {
        try await app.withTransaction { connection in
            if let kind { try connection.query("SELECT name_tenant($1, $2)", [kind, id]) }
            return try connection.query("SELECT count(*) FROM \(table)").single().decode(0, as: Int.self)
        }
    }

    @Test func aTransactionSeesOnlyTheTenantItNames() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let other = try await world.tenant()
            for each in [tenant, other] {
                let bought = try await world.services.purchases.order(
                    customerID: each.customerID, .buy(type: "vm", billingMode: .payPerUse, termMonths: nil, spec: nil),
                    context: each.customer.context)
                _ = try await world.services.purchases.recordUsage(
                    customerID: each.customerID, resourceID: bought.resourceId, quantity: 1, context: each.customer.context)
                _ = try await world.freeze(each)
            }
            let app = try await database.applicationClient()
            defer { Task { await app.shutdown() } }
            for table in Self.tables {
                let all = try await client.int("SELECT count(*) FROM \(table)")
                #expect(all > 0, "\(table) has rows of both tenants")
                // Naming nothing sees nothing.
                #expect(try await Self.visible(app, table, nil, nil) == 0, "\(table)")
                #expect(try await Self.visible(app, table, "all", nil) == all, "\(table)")
                let own = try await client.int(
                    table == "customers" ? "SELECT count(*) FROM customers WHERE id = $1" : "SELECT count(*) FROM \(table) WHERE customer_id = $1",
                    [tenant.customerID])
                #expect(try await Self.visible(app, table, "customer", tenant.customerID) == own, "\(table)")
            }
            // A partner sees its customers and their restrictions and events, not another's.
            #expect(try await Self.visible(app, "customers", "partner", tenant.partnerID) == 1)
            #expect(try await Self.visible(app, "restrictions", "distributor", other.distributorID) == 1)
            #expect(try await Self.visible(app, "resources", "partner", tenant.partnerID) == 0, "resources are read per customer")
            await app.shutdown()
        }
    }

    @Test func aTransactionNarrowsOnlyToACustomerItSees() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let other = try await world.tenant()
            let app = try await database.applicationClient()
            defer { Task { await app.shutdown() } }
            let narrowed = try await app.withTransaction { connection in
                try connection.query("SELECT name_tenant('partner', $1)", [tenant.partnerID])
                try connection.query("SELECT name_tenant('customer', $1)", [tenant.customerID])
                return try connection.query("SELECT count(*) FROM resources").single().decode(0, as: Int.self)
            }
            #expect(narrowed > 0)
            for (kind, id) in [("customer", other.customerID.uuid), ("partner", other.partnerID.uuid), ("all", nil as UUID?)] {
                await #expect(throws: PostgresError.self, "\(kind)") {
                    try await app.withTransaction { connection in
                        try connection.query("SELECT name_tenant('partner', $1)", [tenant.partnerID])
                        try connection.query("SELECT name_tenant($1, $2)", [kind, id])
                    }
                }
            }
            await app.shutdown()
        }
    }

    /// The buy names its customer itself (schema 0013); inside a transaction named for a
    /// partner it sees only that partner's customers, so a partner's transaction can neither
    /// buy for nor freeze another partner's customer, though the functions run as the owner.
    @Test func theBuyNamesItsCustomerAndNarrowsOnlyToOneItSees() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let other = try await world.tenant()
            let app = try await database.applicationClient()
            let buy = "SELECT count(*) FROM buy_resource($1, gen_random_uuid(), 'vm', 'pay_per_use', '{}', NULL, gen_random_uuid(), 't')"
            let named = try await app.withTransaction { connection in
                let bought = try connection.query(buy, [tenant.customerID]).single().decode(0, as: Int.self)
                let kind = try connection.query("SELECT current_setting('partner.tenant_kind', true), current_setting('partner.tenant_id', true)").single()
                return (bought, try kind.decode(0, as: String.self), try kind.decode(1, as: String.self))
            }
            #expect(named.0 == 1)
            #expect(named.1 == "customer" && named.2 == tenant.customerID.lowercasedString)
            let mine = try await app.withTransaction { connection in
                try connection.query("SELECT name_tenant('partner', $1)", [tenant.partnerID])
                return try connection.query(buy, [tenant.customerID]).single().decode(0, as: Int.self)
            }
            #expect(mine == 1)
            // Another partner's customer is not seen: no row (as for no such customer), and the
            // transaction still names the partner, not that customer.
            let foreign = try await app.withTransaction { connection in
                try connection.query("SELECT name_tenant('partner', $1)", [tenant.partnerID])
                let bought = try connection.query(buy, [other.customerID]).single().decode(0, as: Int.self)
                return (bought, try connection.query("SELECT current_setting('partner.tenant_id', true)").single().decode(0, as: String.self))
            }
            #expect(foreign.0 == 0)
            #expect(foreign.1 == tenant.partnerID.lowercasedString)
            #expect(try await client.int("SELECT count(*) FROM orders WHERE customer_id = $1", [other.customerID]) == 0)
            // A freeze of it is refused outright: the services lock a customer before they freeze it.
            let refused = await #expect(throws: PostgresError.self) {
                try await app.withTransaction { connection in
                    try connection.query("SELECT name_tenant('partner', $1)", [tenant.partnerID])
                    try connection.query(
                        "SELECT * FROM apply_freeze($1, gen_random_uuid(), 'purchase', 'r', 'partner', $2, 'purchase_restricted', 0, $3, $2, 't', NULL, 'manual')",
                        [other.customerID, tenant.partnerID, tenant.distributorID])
                }
            }
            #expect(refused?.sqlState == "42501")
            #expect(try await client.status(of: other) == "normal")
            await app.shutdown()
        }
    }

    /// History is not rewritten by the application role: orders and usage are insert-only,
    /// a restriction's applied facts are fixed.
    @Test func theApplicationRoleCannotRewriteHistory() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant)
            let app = try await database.applicationClient()
            defer { Task { await app.shutdown() } }
            for statement in [
                "UPDATE orders SET action = 'buy'", "UPDATE usage_records SET quantity = 1", "DELETE FROM orders",
                "UPDATE restrictions SET reason = 'rewritten'", "UPDATE customers SET partner_id = partner_id",
                "UPDATE resources SET billing_mode = 'prepaid'",
            ] {
                await #expect(throws: PostgresError.self, "\(statement)") {
                    try await app.withTransaction { connection in
                        try connection.query("SELECT name_tenant('all', NULL)")
                        try connection.query(statement)
                    }
                }
            }
            await app.shutdown()
        }
    }
}
