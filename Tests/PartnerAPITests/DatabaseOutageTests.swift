import Foundation
import HTTPTypes
import Postgres
import TestSupport
import Testing

/// Invariant 8 and DESIGN §7: while the database cannot be reached every request that needs
/// it answers 503 `service_unavailable` with `Retry-After`, and the same server recovers by
/// itself once the database is back.
@Suite("Database outage")
struct DatabaseOutageTests {
    /// Closes the test database to new sessions and ends the open ones, as the admin role.
    static func setReachable(_ reachable: Bool, _ database: TestDatabase) throws {
        let admin = try PostgresConnection.connect(PostgresConfiguration(url: try TestDatabase.adminURL(), applicationName: "outage test"))
        defer { admin.close() }
        precondition(database.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        try admin.simpleQuery("ALTER DATABASE \(database.name) ALLOW_CONNECTIONS \(reachable)")
        if !reachable {
            _ = try admin.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [database.name])
        }
    }

    func expectUnavailable(_ result: APIResult, sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(result, 503, "service_unavailable", sourceLocation: sourceLocation)
        let retryAfter = result.headers[.retryAfter].flatMap(Int.init)
        #expect(retryAfter != nil && retryAfter! >= 0, "Retry-After: \(result.headers[.retryAfter] ?? "missing")", sourceLocation: sourceLocation)
    }

    @Test func unreachableDatabaseIs503WithRetryAfterThenRecovers() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            // A key never used before: authentication itself needs the database.
            let freshToken = try await api.world.newToken(for: tenant.partner)
            expectSuccess(try await api.call(.get, "/v1/customers", as: tenant.partner.token), 200)

            try Self.setReachable(false, api.database)
            do {
                expectUnavailable(try await api.call(.get, "/readyz"))
                expectUnavailable(try await api.call(.get, "/v1/customers", as: tenant.partner.token))
                expectUnavailable(try await api.call(.get, "/v1/customers", as: freshToken))
                expectUnavailable(try await api.call(
                    .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted,
                    headers: [.init("Idempotency-Key")!: "during-outage"]))
                expectUnavailable(try await api.call(
                    .post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token, json: Route.order.bodyTemplate))
                // The process itself is up.
                expectSuccess(try await api.call(.get, "/healthz"), 200)
                #expect(try await api.call(.get, "/metrics").code == 200)
            } catch {
                try? Self.setReachable(true, api.database)
                throw error
            }
            try Self.setReachable(true, api.database)

            // The same app, no restart: ready again, and the retried request does its work once.
            expectSuccess(try await api.call(.get, "/readyz"), 200)
            expectSuccess(try await api.call(.get, "/v1/customers", as: freshToken), 200)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "normal", "nothing happened during the outage")
            let retried = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted,
                headers: [.init("Idempotency-Key")!: "during-outage"])
            expectSuccess(retried, 200)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "frozen")
            #expect(try await api.client.int("SELECT count(*) FROM orders") == 0)
        }
    }
}
