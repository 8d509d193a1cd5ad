import Foundation
import Postgres

/// The caller's own settings: whether freezing and unfreezing need a verification code.
public struct CallerSettings: Sendable, Codable, Equatable {
    public var verificationCodeRequired: Bool
}

public struct Settings: Sendable {
    let client: PostgresClient
    let codes: VerificationCodes

    public init(client: PostgresClient, codes: VerificationCodes) {
        self.client = client
        self.codes = codes
    }

    public func get(_ principal: Principal) async throws -> CallerSettings {
        let table = try Self.table(for: principal)
        let rows = try await client.query("SELECT verification_code_required FROM \(table) WHERE id = $1", [principal.id])
        guard let row = rows.first else { throw PartnerError.notFound("the account") }
        return CallerSettings(verificationCodeRequired: try row.decode(0))
    }

    /// Changes the setting. Turning codes off while they are on takes a code of purpose
    /// `settings`: otherwise a stolen key would switch off the very check meant to stop it.
    public func update(verificationCodeRequired: Bool, verificationCode: String? = nil, context: ChangeContext) async throws -> CallerSettings {
        let principal = context.principal
        let table = try Self.table(for: principal)
        let codes = self.codes
        let settled = try await client.withTransaction(in: Access.tenant(of: principal)) { connection -> Restrictions.Settled<CallerSettings> in
            guard let current = try connection.query(
                "SELECT verification_code_required FROM \(table) WHERE id = $1 FOR UPDATE", [principal.id]).first
            else { throw PartnerError.notFound("the account") }
            if try current.decode(0, as: Bool.self), !verificationCodeRequired,
                let refusal = try codes.verify(connection, principal: principal, purpose: .settings, code: verificationCode)
            {
                return .refused(refusal)
            }
            try connection.execute("UPDATE \(table) SET verification_code_required = $2 WHERE id = $1", [principal.id, verificationCodeRequired])
            try AuditLog.append(
                connection, context, action: "settings.updated", target: (principal.kind.rawValue, principal.id),
                scope: TenantScope(distributorID: principal.distributorID, partnerID: principal.partnerID),
                details: ["verification_code_required": .bool(verificationCodeRequired)])
            return try Restrictions.Settled.done(CallerSettings(verificationCodeRequired: verificationCodeRequired))
                .answering(context, connection)
        }
        return try Restrictions.settle(settled)
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

    /// The agreement in force: the latest published (`apply_freeze` reads it the same way).
    static let currentSQL = "SELECT version, title, body FROM agreements ORDER BY published_at DESC, version DESC LIMIT 1"

    /// What a freeze, or a budget that freezes, answers without the agreement accepted.
    static let required = PartnerError(
        .agreementRequired, "accept the Agreement for Partners to Manage Customer Budgets to freeze resources")

    public func current() async throws -> Agreement {
        let row = try await client.query(Self.currentSQL).single()
        return Agreement(version: try row.decode(0), title: try row.decode(1), text: try row.decode(2))
    }
}
