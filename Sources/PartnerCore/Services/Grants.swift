import Foundation
import Postgres

/// The freeze permission a distributor grants to (and revokes from) its partners, with history.
///
/// Grant and revoke lock the partner row `FOR UPDATE`; freezes hold it `FOR SHARE`, so a
/// freeze either completes under the grant or sees it revoked — never in between.
public struct Grants: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Grants the permission. Granting an already granted permission changes nothing.
    public func grant(partnerID: PartnerID, context: ChangeContext) async throws -> FreezePermission {
        let distributorID = try Self.requireDistributor(context.principal)
        return try await client.withTransaction(answering: context) { connection in
            try Self.lockPartner(partnerID, of: distributorID, connection)
            let inserted = try connection.execute("""
                INSERT INTO freeze_permission_grants (partner_id, distributor_id, granted_by_kind, granted_by_id)
                SELECT $1, $2, $3, $4
                WHERE NOT EXISTS (SELECT 1 FROM freeze_permission_grants WHERE partner_id = $1 AND revoked_at IS NULL)
                """, [partnerID, distributorID, context.principal.actorKind, context.principal.id])
            if inserted == 1 {
                let scope = TenantScope(distributorID: distributorID, partnerID: partnerID)
                try AuditLog.append(connection, context, action: "freeze_permission.granted", target: ("partner", partnerID.uuid), scope: scope)
                try Outbox.append(connection, type: Outbox.EventType.grantChanged, scope: scope,
                                  data: ["partner_id": .string(partnerID.lowercasedString), "granted": .bool(true)])
            }
            return try Self.permission(partnerID, connection)
        }
    }

    /// Revokes the permission. Restrictions the partner applied stay in place; the
    /// distributor takes them over. Revoking when nothing is granted changes nothing.
    public func revoke(partnerID: PartnerID, context: ChangeContext) async throws -> FreezePermission {
        let distributorID = try Self.requireDistributor(context.principal)
        return try await client.withTransaction(answering: context) { connection in
            try Self.lockPartner(partnerID, of: distributorID, connection)
            let revoked = try connection.execute("""
                UPDATE freeze_permission_grants SET revoked_at = now(), revoked_by_kind = $2, revoked_by_id = $3
                WHERE partner_id = $1 AND revoked_at IS NULL
                """, [partnerID, context.principal.actorKind, context.principal.id])
            if revoked == 1 {
                let scope = TenantScope(distributorID: distributorID, partnerID: partnerID)
                try AuditLog.append(connection, context, action: "freeze_permission.revoked", target: ("partner", partnerID.uuid), scope: scope)
                try Outbox.append(connection, type: Outbox.EventType.grantChanged, scope: scope,
                                  data: ["partner_id": .string(partnerID.lowercasedString), "granted": .bool(false)])
            }
            return try Self.permission(partnerID, connection)
        }
    }

    /// The permission's state and history, for the distributor or the partner itself.
    public func permission(partnerID: PartnerID, principal: Principal) async throws -> FreezePermission {
        try await client.withConnection { connection in
            let rows = try connection.query("SELECT distributor_id FROM partners WHERE id = $1", [partnerID])
            guard let row = rows.first else { throw PartnerError.notFound("the partner") }
            let distributorID: DistributorID = try row.decode(0)
            guard Access.canSee(principal, partnerID: partnerID, distributorID: distributorID) else {
                throw PartnerError.notFound("the partner")
            }
            return try Self.permission(partnerID, connection)
        }
    }

    /// The distributor's resellers with their grant state, by id.
    public func partners(of principal: Principal, page: PageRequest) async throws -> Page<PartnerWithGrant> {
        let distributorID = try Self.requireDistributor(principal)
        let after = try page.position.map { position -> UUID in
            guard let id = UUID(uuidString: position) else { throw PartnerError.validation("cursor is not one this service returned") }
            return id
        }
        let rows = try await client.query("""
            SELECT p.id, p.name, p.status, p.created_at, g.granted_at
            FROM partners p
            LEFT JOIN freeze_permission_grants g ON g.partner_id = p.id AND g.revoked_at IS NULL
            WHERE p.distributor_id = $1 AND ($2::uuid IS NULL OR p.id > $2)
            ORDER BY p.id LIMIT $3
            """, [distributorID, after, page.limit + 1])
        let partners = try rows.map { row in
            let grantedAt = try row.decode(4, as: Date?.self)
            return PartnerWithGrant(
                id: try row.decode(0), name: try row.decode(1), status: try row.decode(2, as: TenantStatus.self),
                freezePermission: FreezePermissionState(granted: grantedAt != nil, grantedAt: grantedAt),
                createdAt: try row.decode(3))
        }
        return page.page(partners) { $0.id.lowercasedString }
    }

    static func requireDistributor(_ principal: Principal) throws -> DistributorID {
        guard principal.kind == .distributor, let distributorID = principal.distributorID else {
            throw PartnerError(.forbidden, "only a distributor manages its partners' freeze permission")
        }
        return distributorID
    }

    /// Locks the partner row, refusing a partner of another distributor as not found and a
    /// suspended distributor as `actor_suspended`.
    static func lockPartner(_ partnerID: PartnerID, of distributorID: DistributorID, _ connection: PostgresConnection) throws {
        let rows = try connection.query("""
            SELECT d.status FROM partners p JOIN distributors d ON d.id = p.distributor_id
            WHERE p.id = $1 AND p.distributor_id = $2 FOR UPDATE OF p
            """, [partnerID, distributorID])
        guard let row = rows.first else { throw PartnerError.notFound("the partner") }
        guard try row.decode(0, as: String.self) == TenantStatus.active.rawValue else {
            throw PartnerError(.actorSuspended, "your distributor account is suspended")
        }
    }

    static func permission(_ partnerID: PartnerID, _ connection: PostgresConnection) throws -> FreezePermission {
        let rows = try connection.query("""
            SELECT id, granted_by_kind, granted_by_id, granted_at, revoked_by_kind, revoked_by_id, revoked_at
            FROM freeze_permission_grants WHERE partner_id = $1 ORDER BY granted_at DESC, id
            """, [partnerID])
        let history = try rows.map { row in
            let revokedKind = try row.decode(4, as: String?.self)
            let revokedID = try row.decode(5, as: UUID?.self)
            return FreezePermissionGrant(
                id: try row.decode(0), partnerId: partnerID,
                grantedBy: ActorRef(kind: try row.decode(1), id: try row.decode(2)), grantedAt: try row.decode(3),
                revokedBy: revokedKind.flatMap { kind in revokedID.map { ActorRef(kind: kind, id: $0) } },
                revokedAt: try row.decode(6, as: Date?.self))
        }
        let current = history.first { $0.revokedAt == nil }
        return FreezePermission(partnerId: partnerID, granted: current != nil, current: current, history: history)
    }
}
