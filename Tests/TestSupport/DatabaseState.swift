import Foundation
import Postgres

/// A fingerprint of every table a request can change: row count and an MD5 of the rows in
/// key order. Two equal fingerprints mean nothing changed — no status, no restriction, no
/// resource state, no audit or outbox event — which is what a refused request must prove.
public struct DatabaseState: Sendable, Equatable, CustomStringConvertible {
    /// `table → "count:md5"`.
    public let tables: [String: String]

    /// Tables with their key order. Verification codes are listed separately: a wrong code's
    /// failed attempt is the one thing a refusal does write.
    static let orderedTables: [(name: String, order: String)] = [
        ("distributors", "id"), ("partners", "id"), ("freeze_permission_grants", "id"),
        ("customers", "id"), ("restrictions", "customer_id, id"), ("resources", "customer_id, id"),
        ("resource_data", "customer_id, resource_id"), ("orders", "customer_id, id"),
        ("usage_records", "customer_id, id"), ("audit_events", "id"), ("outbox_events", "id"),
        ("idempotency_keys", "principal_kind, principal_id, key"), ("retention_policies", "level"),
        ("prices", "resource_type"), ("budgets", "customer_id"), ("budget_charges", "customer_id, id"),
        ("api_keys", "id"),
    ]
    static let codesTable = (name: "verification_codes", order: "principal_kind, principal_id, purpose")

    /// `includingIdempotency: false` leaves stored idempotency answers out: through the API a
    /// refusal with an `Idempotency-Key` is stored, to be replayed, and changes nothing else.
    public static func capture(
        _ client: PostgresClient, includingCodes: Bool = false, includingIdempotency: Bool = true
    ) async throws -> DatabaseState {
        try await client.withConnection {
            try capture($0, includingCodes: includingCodes, includingIdempotency: includingIdempotency)
        }
    }

    public static func capture(
        _ connection: PostgresConnection, includingCodes: Bool = false, includingIdempotency: Bool = true
    ) throws -> DatabaseState {
        var tables: [String: String] = [:]
        let listed = orderedTables.filter { includingIdempotency || $0.name != "idempotency_keys" }
        for table in listed + (includingCodes ? [codesTable] : []) {
            // Table names and orders are the fixed list above, never input.
            let row = try connection.query("""
                SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY \(table.order)), ''))
                FROM \(table.name) t
                """).single()
            tables[table.name] = "\(try row.decode(0, as: Int.self)):\(try row.decode(1, as: String.self))"
        }
        return DatabaseState(tables: tables)
    }

    public var description: String {
        tables.keys.sorted().map { "\($0)=\(tables[$0]!.prefix(14))" }.joined(separator: " ")
    }

    /// The tables whose rows differ from `other`'s.
    public func changedTables(since other: DatabaseState) -> [String] {
        tables.keys.sorted().filter { tables[$0] != other.tables[$0] }
    }
}
