import Hummingbird
import PartnerCore

/// A distributor's resellers and the freeze permission it grants them.
struct FreezePermissionController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.get("partners") { request, context in
            try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.grants.partners(of: principal, page: try request.pageRequest()))
            }
        }
        router.get("partners/:partner_id/freeze-permission") { request, context in
            let partnerID = try context.pathID("partner_id", "the partner")
            return try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.grants.permission(partnerID: partnerID, principal: principal))
            }
        }
        router.put("partners/:partner_id/freeze-permission") { request, context in
            let partnerID = try context.pathID("partner_id", "the partner")
            return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
                try await services.grants.grant(partnerID: partnerID, context: change)
            }
        }
        router.delete("partners/:partner_id/freeze-permission") { request, context in
            let partnerID = try context.pathID("partner_id", "the partner")
            return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
                try await services.grants.revoke(partnerID: partnerID, context: change)
            }
        }
    }
}
