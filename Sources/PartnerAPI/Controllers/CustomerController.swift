import Hummingbird
import PartnerCore

/// Customer Management: lists, details and resources, scoped to the caller.
struct CustomerController: Sendable {
    let customers: Customers
    let resources: Resources
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("customers", use: list)
            .get("customers/:customer_id", use: get)
            .get("customers/:customer_id/resources", use: listResources)
    }

    /// GET /v1/customers: the caller's customers, optionally of one status.
    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { principal in
            let status = try request.enumQuery("status", as: CustomerStatus.self)
            return try APIResponse(.ok, try await customers.list(principal, status: status, page: try request.pageRequest()))
        }
    }

    /// GET /v1/customers/:customer_id
    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await customers.get(principal, customerID: customerID))
        }
    }

    /// GET /v1/customers/:customer_id/resources: optionally of one state.
    @Sendable func listResources(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.read(request, context) { principal in
            let state = try request.enumQuery("state", as: ResourceState.self)
            return try APIResponse(.ok, try await resources.list(
                principal, customerID: customerID, state: state, page: try request.pageRequest()))
        }
    }
}
