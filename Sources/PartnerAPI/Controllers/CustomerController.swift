import Hummingbird
import PartnerCore

/// Customer Management: lists, details and resources, scoped to the caller.
struct CustomerController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.get("customers") { request, context in
            try await endpoint.read(request, context) { principal in
                let status = try request.enumQuery("status", as: CustomerStatus.self)
                return try APIResponse(.ok, try await services.customers.list(principal, status: status, page: try request.pageRequest()))
            }
        }
        router.get("customers/:customer_id") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.customers.get(principal, customerID: customerID))
            }
        }
        router.get("customers/:customer_id/resources") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.read(request, context) { principal in
                let state = try request.enumQuery("state", as: ResourceState.self)
                return try APIResponse(.ok, try await services.resources.list(
                    principal, customerID: customerID, state: state, page: try request.pageRequest()))
            }
        }
    }
}
