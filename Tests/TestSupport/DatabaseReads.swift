import Foundation
import PartnerCore
import Postgres

/// The tests' reads of the database, as the admin role: what a request did or did not change,
/// checked in SQL rather than through the code under test. One set for both test targets.
extension PostgresClient {
    /// The first column of the single row of `sql`, as an integer.
    public func int(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await query(sql, parameters).single().decode(0)
    }

    /// The first column of the single row of `sql`, as text (nil for NULL).
    public func string(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> String? {
        try await query(sql, parameters).single().decode(0, as: String?.self)
    }

    /// The customer's status.
    public func customerStatus(_ customerID: CustomerID) async throws -> String? {
        try await string("SELECT status FROM customers WHERE id = $1", [customerID])
    }

    public func status(of tenant: Tenant) async throws -> String? {
        try await customerStatus(tenant.customerID)
    }

    /// `state → count` of the customer's resources of one billing mode.
    public func states(of tenant: Tenant, _ billingMode: BillingMode) async throws -> [String: Int] {
        let prefix = billingMode.rawValue + "."
        return Dictionary(uniqueKeysWithValues: try await resourceStates(tenant.customerID).compactMap { key, count in
            key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), count) : nil
        })
    }

    /// `"billing_mode.state" → count` of all the customer's resources.
    public func resourceStates(_ customerID: CustomerID) async throws -> [String: Int] {
        let rows = try await query(
            "SELECT billing_mode || '.' || state, count(*) FROM resources WHERE customer_id = $1 GROUP BY 1", [customerID])
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self)) })
    }

    public func auditCount(_ action: String, customer tenant: Tenant) async throws -> Int {
        try await int("SELECT count(*) FROM audit_events WHERE action = $1 AND customer_id = $2", [action, tenant.customerID])
    }
}
