import Foundation
import Postgres

/// The caller's own settings: whether freezing and unfreezing need a verification code.
public struct CallerSettings: Sendable, Codable, Equatable {
    public var verificationCodeRequired: Bool
}

public struct Settings: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func get(_ principal: Principal) async throws -> CallerSettings {
        let table = try Self.table(for: principal)
        let rows = try await client.query("SELECT verification_code_required FROM \(table) WHERE id = $1", [principal.id])
        guard let row = rows.first else { throw PartnerError.notFound("the account") }
        return CallerSettings(verificationCodeRequired: try row.decode(0))
    }

    public func update(verificationCodeRequired: Bool, context: ChangeContext) async throws -> CallerSettings {
        let principal = context.principal
        let table = try Self.table(for: principal)
        return try await client.withTransaction { connection in
            let rows = try connection.query(
                "UPDATE \(table) SET verification_code_required = $2 WHERE id = $1 RETURNING verification_code_required",
                [principal.id, verificationCodeRequired])
            guard rows.count == 1 else { throw PartnerError.notFound("the account") }
            try AuditLog.append(
                connection, context, action: "settings.updated", target: (principal.kind.rawValue, principal.id),
                scope: TenantScope(distributorID: principal.distributorID, partnerID: principal.partnerID),
                details: ["verification_code_required": .bool(verificationCodeRequired)])
            return CallerSettings(verificationCodeRequired: verificationCodeRequired)
        }
    }

    /// Only partners and distributors have these settings; the table name is fixed here.
    static func table(for principal: Principal) throws -> String {
        switch principal.kind {
        case .partner: "partners"
        case .distributor: "distributors"
        default: throw PartnerError(.forbidden, "settings belong to partners and distributors")
        }
    }
}

/// The "Agreement for Partners to Manage Customer Budgets" in force.
public struct Agreements: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func current() async throws -> Agreement {
        let row = try await client.query(
            "SELECT version, title, body FROM agreements ORDER BY published_at DESC, version DESC LIMIT 1").single()
        return Agreement(version: try row.decode(0), title: try row.decode(1), text: try row.decode(2))
    }
}
