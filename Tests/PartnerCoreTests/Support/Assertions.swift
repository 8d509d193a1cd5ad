import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// Records one issue per invariant of DESIGN §3 that the database breaks now.
func assertInvariants(_ client: PostgresClient, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let broken = try await client.withConnection { try Invariants.violations($0) }
    for (name, rows) in broken.sorted(by: { $0.key < $1.key }) {
        Issue.record("invariant broken: \(name) (\(rows) rows)", sourceLocation: sourceLocation)
    }
}

/// Runs `body`, which must be refused with `code`, and proves the refusal changed nothing:
/// every table a request can touch has the same rows afterwards. `includingCodes: false`
/// leaves the verification codes out (a wrong code's attempt is written on purpose).
@discardableResult
func expectRefusal<R>(
    _ code: PartnerError.Code, _ client: PostgresClient, includingCodes: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> R
) async throws -> PartnerError? {
    let before = try await DatabaseState.capture(client, includingCodes: includingCodes)
    let error = await #expect(throws: PartnerError.self, sourceLocation: sourceLocation) { _ = try await body() }
    #expect(error?.code == code, "expected \(code.rawValue), got \(String(describing: error))", sourceLocation: sourceLocation)
    let after = try await DatabaseState.capture(client, includingCodes: includingCodes)
    #expect(after == before, "a refused request changed \(after.changedTables(since: before))", sourceLocation: sourceLocation)
    return error
}

/// Convenience reads of the database state, as the test's admin role.
extension PostgresClient {
    func int(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await query(sql, parameters).single().decode(0)
    }

    func string(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> String? {
        try await query(sql, parameters).single().decode(0, as: String?.self)
    }

    func status(of tenant: Tenant) async throws -> String? {
        try await string("SELECT status FROM customers WHERE id = $1", [tenant.customerID])
    }

    /// `state → count` of the customer's resources of one billing mode.
    func states(of tenant: Tenant, _ billingMode: BillingMode) async throws -> [String: Int] {
        let rows = try await query(
            "SELECT state, count(*) FROM resources WHERE customer_id = $1 AND billing_mode = $2 GROUP BY state",
            [tenant.customerID, billingMode.rawValue])
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self)) })
    }

    func auditCount(_ action: String, customer tenant: Tenant) async throws -> Int {
        try await int("SELECT count(*) FROM audit_events WHERE action = $1 AND customer_id = $2", [action, tenant.customerID])
    }
}
