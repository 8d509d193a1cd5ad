import Hummingbird
import PartnerCore

/// A distributor's resellers and the freeze permission it grants them.
struct FreezePermissionController: Sendable {
    let grants: Grants
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("partners", use: listPartners)
            .get("partners/:partner_id/freeze-permission", use: getPermission)
            .put("partners/:partner_id/freeze-permission", use: grant)
            .delete("partners/:partner_id/freeze-permission", use: revoke)
    }

    /// GET /v1/partners
    @Sendable func listPartners(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await grants.partners(of: principal, page: try request.pageRequest()))
        }
    }

    /// GET /v1/partners/:partner_id/freeze-permission
    @Sendable func getPermission(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let partnerID: PartnerID = try context.pathID("partner_id", "the partner")
        return try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await grants.permission(partnerID: partnerID, principal: principal))
        }
    }

    /// PUT /v1/partners/:partner_id/freeze-permission
    @Sendable func grant(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let partnerID: PartnerID = try context.pathID("partner_id", "the partner")
        return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
            try await grants.grant(partnerID: partnerID, context: change)
        }
    }

    /// DELETE /v1/partners/:partner_id/freeze-permission
    @Sendable func revoke(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let partnerID: PartnerID = try context.pathID("partner_id", "the partner")
        return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
            try await grants.revoke(partnerID: partnerID, context: change)
        }
    }
}
