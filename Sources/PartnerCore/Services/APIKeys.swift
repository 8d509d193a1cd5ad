import Foundation
import Postgres

/// A newly created API key: the token is returned this once and never stored.
public struct CreatedAPIKey: Sendable, Codable, Equatable {
    public var id: UUID
    public var token: String
    public var prefix: String
    public var principalKind: Principal.Kind
    public var principalId: UUID
    public var expiresAt: Date?
}

extension CreatedAPIKey: ShownOnce {
    /// The key without its token: what an `Idempotency-Key` replay answers. The token is
    /// shown once and kept nowhere, not even in the stored answer (24 hours).
    public var storedForm: any Encodable & Sendable { ReplayedAPIKey(self) }
}

/// A created key as a replay names it: everything but the token.
struct ReplayedAPIKey: Encodable, Sendable {
    var id: UUID
    var prefix: String
    var principalKind: Principal.Kind
    var principalId: UUID
    var expiresAt: Date?

    init(_ key: CreatedAPIKey) {
        id = key.id
        prefix = key.prefix
        principalKind = key.principalKind
        principalId = key.principalId
        expiresAt = key.expiresAt
    }
}

/// API keys: creation for any principal, and resolving a bearer token to its principal.
public struct APIKeys: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Creates a key for an existing principal (`not_found` when there is none).
    /// `expiresAt`, when given, must lie in the future; the key stops working then.
    public func create(kind: Principal.Kind, principalID: UUID, expiresAt: Date? = nil, context: ChangeContext) async throws -> CreatedAPIKey {
        try context.principal.requireOperator()
        guard kind != .operator else {
            throw PartnerError.validation("operator keys are created on the command line: partner-center api-key create --operator")
        }
        if let expiresAt {
            guard expiresAt > Date(), expiresAt.timeIntervalSince1970 <= 253_402_300_799 else {
                throw PartnerError.validation("expires_at must be in the future and no later than 9999-12-31")
            }
        }
        return try await insert(kind: kind, principalID: principalID, expiresAt: expiresAt, context: context)
    }

    private func insert(kind: Principal.Kind, principalID: UUID, expiresAt: Date? = nil, context: ChangeContext) async throws -> CreatedAPIKey {
        let token = Secrets.newAPIToken()
        let prefix = String(token.prefix(10))
        let hash = Secrets.sha256(token)
        return try await client.withTransaction(answering: context) { connection in
            guard let scope = try Self.scope(of: kind, id: principalID, connection) else {
                throw PartnerError.notFound("the \(kind.rawValue)")
            }
            let id: UUID = try connection.query(
                "INSERT INTO api_keys (principal_kind, principal_id, token_hash, prefix, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                [kind.rawValue, principalID, hash, prefix, expiresAt]
            ).single().decode(0)
            try AuditLog.append(
                connection, context, action: "api_key.created", target: ("api_key", id), scope: scope,
                details: ["principal_kind": .string(kind.rawValue), "principal_id": .string(principalID.lowercasedString),
                          "prefix": .string(prefix)])
            return CreatedAPIKey(id: id, token: token, prefix: prefix, principalKind: kind, principalId: principalID, expiresAt: expiresAt)
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
            distributorID: try row.decode(0, as: DistributorID?.self), partnerID: try row.decode(1, as: PartnerID?.self),
            customerID: try row.decode(2, as: CustomerID?.self))
    }

    /// The key and its principal from the tenant tables above customers (reference tables on
    /// Citus, no row-level security): a customer's own row is read by a second statement, in
    /// a transaction naming that customer.
    static let authenticateSQL = """
        SELECT k.principal_kind, k.principal_id,
               COALESCE(d.id, p.distributor_id) AS distributor_id,
               p.id AS partner_id,
               (o.id IS NOT NULL OR d.id IS NOT NULL OR p.id IS NOT NULL OR k.principal_kind = 'customer') AS principal_exists,
               (d.status = 'suspended' OR p.status = 'suspended' OR pd.status = 'suspended') AS suspended,
               k.id
        FROM api_keys k
        LEFT JOIN operators o ON k.principal_kind = 'operator' AND o.id = k.principal_id
        LEFT JOIN distributors d ON k.principal_kind = 'distributor' AND d.id = k.principal_id
        LEFT JOIN partners p ON k.principal_kind = 'partner' AND p.id = k.principal_id
        LEFT JOIN distributors pd ON pd.id = p.distributor_id
        WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
        """

    /// Whether `token` has the shape of a token this service issues (`pc_` and 43 base64url
    /// characters). Anything else is refused before any cache or query sees it.
    public static func isWellFormed(_ token: String) -> Bool {
        // Over the contiguous UTF-8 bytes: this runs on every request, and the generic
        // `StringProtocol` form it replaced walked the view through protocol witnesses.
        var token = token
        return token.withUTF8 { bytes in
            guard bytes.count == 46, bytes.starts(with: "pc_".utf8) else { return false }
            return bytes.dropFirst(3).allSatisfy { byte in
                (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2d
                    || byte == 0x5f
            }
        }
    }

    /// The SHA-256 of a token: what is stored, and what caches key on.
    public static func digest(_ token: String) -> Data { Secrets.sha256(token) }

    /// The principal behind a token's digest, or `nil` for an unknown, revoked or expired key.
    public func authenticate(digest: Data) async throws -> AuthenticatedKey? {
        let rows = try await client.query(Self.authenticateSQL, [digest])
        guard let row = rows.first, try row.decode(4, as: Bool.self) else { return nil }
        let kind = try row.decode(0, as: Principal.Kind.self)
        let id: UUID = try row.decode(1)
        var principal = Principal(
            kind: kind, id: id, distributorID: try row.decode(2, as: DistributorID?.self), partnerID: try row.decode(3, as: PartnerID?.self))
        if kind == .customer {
            // The customer reads its own row: row-level security names it, nothing wider.
            let customerID = CustomerID(id)
            guard let owners = try await client.withTransaction(in: .customer(customerID), readOnly: true, { connection in
                try connection.query(Access.ownersSQL, [customerID]).first.map { try $0.decode((PartnerID, DistributorID).self) }
            }) else { return nil }
            let (partnerID, distributorID) = owners
            principal = .customer(customerID, of: partnerID, under: distributorID)
        }
        principal.isSuspended = try row.decode(5, as: Bool?.self) ?? false
        return AuthenticatedKey(keyID: try row.decode(6), principal: principal)
    }

    /// The principal behind a bearer token (tests and tools; the server goes by digest).
    public func authenticate(token: String) async throws -> Principal? {
        guard Self.isWellFormed(token) else { return nil }
        return try await authenticate(digest: Self.digest(token))?.principal
    }

    /// Revokes a key, by the operator or by the key's own principal (anyone else: `not_found`).
    /// The caller drops the key from its own cache at once (by id); other servers stop
    /// accepting it within their cache lifetime.
    @discardableResult
    public func revoke(keyID: UUID, context: ChangeContext) async throws -> RevokedAPIKey {
        let principal = context.principal
        return try await client.withTransaction(answering: context) { connection in
            let rows = try connection.query("""
                UPDATE api_keys SET revoked_at = now()
                WHERE id = $1 AND revoked_at IS NULL AND ($2 OR (principal_kind = $3 AND principal_id = $4))
                RETURNING principal_kind, principal_id, prefix, revoked_at
                """, [keyID, principal.kind == .operator, principal.actorKind, principal.id])
            guard let row = rows.first else { throw PartnerError.notFound("the API key") }
            let kind = try row.decode(0, as: Principal.Kind.self)
            let scope = try Self.scope(of: kind, id: try row.decode(1), connection) ?? TenantScope(distributorID: nil)
            try AuditLog.append(connection, context, action: "api_key.revoked", target: ("api_key", keyID), scope: scope)
            return RevokedAPIKey(id: keyID, prefix: try row.decode(2), revokedAt: try row.decode(3))
        }
    }

}

/// A key that authenticated: its id and its principal.
public struct AuthenticatedKey: Sendable, Equatable {
    public var keyID: UUID
    public var principal: Principal
}

/// The answer to a revocation.
public struct RevokedAPIKey: Sendable, Codable, Equatable {
    public var id: UUID
    public var prefix: String
    public var revokedAt: Date
}
