import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Audit" and invariant 5: audit events are immutable, enforced in the database —
/// by the application role's privileges, and by a trigger that binds even the owner. The
/// application role cannot change the schema either.
@Suite("Audit log", .serialized)
struct AuditTests {
    /// A session acting as the application role (the test's admin role is a superuser).
    static func appSession(_ database: TestDatabase) async throws -> Session {
        let session = try Session(database)
        try await session.simple("SET ROLE partner_app")
        #expect(try await session.query("SELECT current_user").single().decode(0, as: String.self) == "partner_app")
        return session
    }

    static func expectSQLState(
        _ state: String, _ session: Session, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let error = await #expect(throws: PostgresError.self, sourceLocation: sourceLocation) { try await session.simple(sql) }
        #expect(error?.sqlState == state, "\(sql): \(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test func theApplicationRoleCannotRewriteAuditEvents() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant)
            let before = try await DatabaseState.capture(client)
            let app = try await Self.appSession(database)
            for sql in [
                "UPDATE audit_events SET reason = 'rewritten'",
                "DELETE FROM audit_events",
                "TRUNCATE audit_events",
                "UPDATE outbox_events SET type = 'rewritten'",
                "DELETE FROM outbox_events",
                "TRUNCATE outbox_events",
            ] {
                try await Self.expectSQLState("42501", app, sql)
            }
            // Appending is what the role is for (in a transaction that names its tenant: row-level security).
            try await app.simple("""
                BEGIN; SELECT name_tenant('all', NULL);
                INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, tenant_id) SELECT 'system', u, 'test.appended', 'test', u FROM gen_random_uuid() u;
                COMMIT
                """)
            await app.close()
            let after = try await DatabaseState.capture(client)
            #expect(after.changedTables(since: before) == ["audit_events"])
            #expect(try await client.int("SELECT count(*) FROM audit_events WHERE action = 'test.appended'") == 1)
        }
    }

    @Test func evenTheOwnerCannotUpdateDeleteOrTruncateAuditEvents() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant)
            let before = try await DatabaseState.capture(client)
            let owner = try Session(database)
            #expect(try await owner.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").single().decode(0, as: Bool.self))
            for sql in [
                "UPDATE audit_events SET reason = 'rewritten'",
                "DELETE FROM audit_events WHERE action = 'customer.restricted'",
                "TRUNCATE audit_events",
            ] {
                try await Self.expectSQLState("42501", owner, sql)
            }
            await owner.close()
            #expect(try await DatabaseState.capture(client) == before)
        }
    }

    @Test func theApplicationRoleCannotChangeTheSchema() async throws {
        try await withTestDatabase { (database, client) async throws in
            let app = try await Self.appSession(database)
            try await Self.expectSQLState("42501", app, "CREATE TABLE intruder (id int)")
            try await Self.expectSQLState("42501", app, "DROP TABLE audit_events")
            try await Self.expectSQLState("42501", app, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
            try await Self.expectSQLState("42501", app, "INSERT INTO agreements (version, title, body) VALUES ('x', 'x', 'x')")
            try await Self.expectSQLState("42501", app, "DELETE FROM restrictions")
            await app.close()
            #expect(try await client.int("SELECT count(*) FROM pg_tables WHERE tablename = 'intruder'") == 0)
        }
    }

    /// Each principal reads only its own slice of the log; a bad page is a validation failure.
    @Test func eachPrincipalReadsOnlyItsOwnEvents() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let other = try await world.tenant()
            _ = try await world.freeze(tenant)
            _ = try await world.freeze(other)
            let auditLog = world.services.auditLog
            let partnerPage = try await auditLog.list(tenant.partner.principal, customerID: nil, page: PageRequest(limit: 200))
            #expect(!partnerPage.items.isEmpty)
            #expect(partnerPage.items.allSatisfy { $0.customerId == nil || $0.customerId == tenant.customerID })
            #expect(partnerPage.items.contains { $0.action == "customer.restricted" })
            // Another tenant's customer is not_found, as everywhere else (invariant 7).
            let foreign = await #expect(throws: PartnerError.self) {
                try await auditLog.list(tenant.distributor.principal, customerID: other.customerID, page: PageRequest())
            }
            #expect(foreign?.code == .notFound)
            // Paging walks the log newest first without gaps or repeats.
            var seen: [Int64] = []
            var cursor: String? = nil
            repeat {
                let page = try await auditLog.list(tenant.distributor.principal, customerID: nil, page: PageRequest(limit: 2, cursor: cursor))
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            let expected = try await client.query(
                "SELECT id FROM audit_events WHERE distributor_id = $1 ORDER BY id DESC", [tenant.distributorID]
            ).map { try $0.decode(0, as: Int64.self) }
            #expect(seen == expected)
        }
    }
}
