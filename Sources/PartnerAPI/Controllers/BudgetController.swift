import Hummingbird
import PartnerCore

/// The price list (operator) and each customer's budget (DESIGN §10).
struct BudgetController: Sendable {
    let prices: Prices
    let budgets: Budgets
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("prices", use: listPrices)
            .put("prices/:resource_type", use: setPrice)
            .get("customers/:customer_id/budget", use: getBudget)
            .put("customers/:customer_id/budget", use: setBudget)
            .delete("customers/:customer_id/budget", use: removeBudget)
    }

    /// GET /v1/prices
    @Sendable func listPrices(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { _ in
            try APIResponse(.ok, PriceList(items: try await prices.list()))
        }
    }

    /// PUT /v1/prices/:resource_type: the type is free text, checked by the service.
    @Sendable func setPrice(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let type = context.parameters.get("resource_type") ?? ""
        return try await endpoint.write(request, context, as: PriceBody.self, status: .ok) { change, body in
            try await prices.set(
                resourceType: type, usageUnitPrice: body.usageUnitPrice, monthlyPrice: body.monthlyPrice, context: change)
        }
    }

    /// GET /v1/customers/:customer_id/budget
    @Sendable func getBudget(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await budgets.get(principal, customerID: customerID))
        }
    }

    /// PUT /v1/customers/:customer_id/budget
    @Sendable func setBudget(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.write(request, context, as: BudgetBody.self, status: .ok, tenant: customerID) { change, body in
            try await budgets.set(customerID: customerID, body.request, context: change)
        }
    }

    /// DELETE /v1/customers/:customer_id/budget
    @Sendable func removeBudget(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.write(
            request, context, as: RemoveBudgetBody.self, status: .ok, tenant: customerID
        ) { change, body in
            try await budgets.remove(customerID: customerID, verificationCode: body.verificationCode, context: change)
        }
    }
}

/// Every priced resource type (the list is short: never paged).
struct PriceList: Encodable, Sendable {
    var items: [Price]
}
