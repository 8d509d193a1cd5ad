import Foundation
import Postgres

/// A newly created API key: the token is returned this once and never stored.
public struct CreatedAPIKey: Sendable, Codable, Equatable {
    public var id: UUID
    public var token: String
    public var prefix: String
    public var principalKind: Principal.Kind
    public var principalId: UUID
}

/// API keys: creation for any principal, and resolving a bearer token to its principal.
public struct APIKeys: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Creates a key for an existing principal (`not_found` when there is none).
    public func create(kind: Principal.Kind, principalID: UUID, context: ChangeContext) async throws -> CreatedAPIKey {
        try context.principal.requireOperator()
        guard kind != .operator else {
            throw PartnerError.validation("operator keys are created on the command line: partner-center api-key create --operator")
        }
        return try await insert(kind: kind, principalID: principalID, context: context)
    }

    private func insert(kind: Principal.Kind, principalID: UUID, context: ChangeContext) async throws -> CreatedAPIKey {
        let token = Secrets.newAPIToken()
        let prefix = String(token.prefix(10))
        let hash = Secrets.sha256(token)
        return try await client.withTransaction { connection in
            guard let scope = try Self.scope(of: kind, id: principalID, connection) else {
                throw PartnerError.notFound("the \(kind.rawValue)")
            }
            let id: UUID = try connection.query(
                "INSERT INTO api_keys (principal_kind, principal_id, token_hash, prefix) VALUES ($1, $2, $3, $4) RETURNING id",
                [kind.rawValue, principalID, hash, prefix]
            ).single().decode(0)
            try AuditLog.append(
                connection, context, action: "api_key.created", target: ("api_key", id), scope: scope,
                details: ["principal_kind": .string(kind.rawValue), "principal_id": .string(principalID.uuidString.lowercased()),
                          "prefix": .string(prefix)])
            return CreatedAPIKey(id: id, token: token, prefix: prefix, principalKind: kind, principalId: principalID)
        }
    }

    /// Creates an operator (the platform's own principal) and a key for it: the bootstrap
    /// step of a new installation, run from the command line.
    public func createOperator(name: String) async throws -> CreatedAPIKey {
        let name = try Validate.name(name)
        let operatorID: UUID = try await client.query(
            "INSERT INTO operators (name) VALUES ($1) RETURNING id", [name]).single().decode(0)
        let context = ChangeContext(principal: Principal(kind: .operator, id: operatorID), requestID: "cli")
        return try await insert(kind: .operator, principalID: operatorID, context: context)
    }

    /// The tenant scope of a principal, or `nil` when it does not exist.
    static func scope(of kind: Principal.Kind, id: UUID, _ connection: PostgresConnection) throws -> TenantScope? {
        let sql: String
        switch kind {
        case .operator: sql = "SELECT NULL::uuid, NULL::uuid, NULL::uuid FROM operators WHERE id = $1"
        case .distributor: sql = "SELECT id, NULL::uuid, NULL::uuid FROM distributors WHERE id = $1"
        case .partner: sql = "SELECT distributor_id, id, NULL::uuid FROM partners WHERE id = $1"
        case .customer:
            sql = "SELECT p.distributor_id, c.partner_id, c.id FROM customers c JOIN partners p ON p.id = c.partner_id WHERE c.id = $1"
        }
        guard let row = try connection.query(sql, [id]).first else { return nil }
        return TenantScope(
            distributorID: try row.decode(0, as: UUID?.self), partnerID: try row.decode(1, as: UUID?.self),
            customerID: try row.decode(2, as: UUID?.self))
    }

    static let authenticateSQL = """
        SELECT k.principal_kind, k.principal_id,
               COALESCE(d.id, p.distributor_id, cp.distributor_id) AS distributor_id,
               COALESCE(p.id, c.partner_id) AS partner_id,
               (o.id IS NOT NULL OR d.id IS NOT NULL OR p.id IS NOT NULL OR c.id IS NOT NULL) AS principal_exists
        FROM api_keys k
        LEFT JOIN operators o ON k.principal_kind = 'operator' AND o.id = k.principal_id
        LEFT JOIN distributors d ON k.principal_kind = 'distributor' AND d.id = k.principal_id
        LEFT JOIN partners p ON k.principal_kind = 'partner' AND p.id = k.principal_id
        LEFT JOIN customers c ON k.principal_kind = 'customer' AND c.id = k.principal_id
        LEFT JOIN partners cp ON cp.id = c.partner_id
        WHERE k.token_hash = $1 AND k.revoked_at IS NULL
        """

    /// The principal behind a bearer token, or `nil` for an unknown or revoked key.
    public func authenticate(token: String) async throws -> Principal? {
        guard token.hasPrefix("pc_"), token.count <= 100 else { return nil }
        let rows = try await client.query(Self.authenticateSQL, [Secrets.sha256(token)])
        guard let row = rows.first, try row.decode(4, as: Bool.self),
            let kind = Principal.Kind(rawValue: try row.decode(0))
        else { return nil }
        return Principal(
            kind: kind, id: try row.decode(1), distributorID: try row.decode(2, as: UUID?.self),
            partnerID: try row.decode(3, as: UUID?.self))
    }

    /// Revokes a key; authentication stops accepting it at once (caches must honour this).
    public func revoke(keyID: UUID, context: ChangeContext) async throws {
        try await client.withTransaction { connection in
            let rows = try connection.query(
                "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING principal_kind, principal_id",
                [keyID])
            guard let row = rows.first, let kind = Principal.Kind(rawValue: try row.decode(0)) else {
                throw PartnerError.notFound("the API key")
            }
            let scope = try Self.scope(of: kind, id: try row.decode(1), connection) ?? TenantScope(distributorID: nil)
            try AuditLog.append(connection, context, action: "api_key.revoked", target: ("api_key", keyID), scope: scope)
        }
    }
}
