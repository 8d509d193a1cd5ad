import Hummingbird
import PartnerCore

/// The audit log and the outbox events feed, each scoped to the caller.
struct FeedController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.get("audit-events") { request, context in
            try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.auditLog.list(
                    principal, customerID: try request.uuidQuery("customer_id"), page: try request.pageRequest()))
            }
        }
        router.get("events") { request, context in
            try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.outbox.feed(principal, page: try request.pageRequest(cursorName: "after")))
            }
        }
    }
}
