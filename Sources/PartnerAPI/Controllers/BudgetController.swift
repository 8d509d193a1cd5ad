import Hummingbird
import PartnerCore

/// The price list (operator) and each customer's budget (DESIGN §10).
struct BudgetController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.get("prices") { request, context in
            try await endpoint.read(request, context) { _ in
                try APIResponse(.ok, PriceList(items: try await services.prices.list()))
            }
        }
        router.put("prices/:resource_type") { request, context in
            let type = context.parameters.get("resource_type") ?? ""
            return try await endpoint.write(request, context, as: PriceBody.self, status: .ok) { change, body in
                try await services.prices.set(
                    resourceType: type, usageUnitPrice: body.usageUnitPrice, monthlyPrice: body.monthlyPrice, context: change)
            }
        }
        router.get("customers/:customer_id/budget") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.budgets.get(principal, customerID: customerID))
            }
        }
        router.put("customers/:customer_id/budget") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: BudgetBody.self, status: .ok, tenant: customerID) { change, body in
                try await services.budgets.set(customerID: customerID, body.request, context: change)
            }
        }
        router.delete("customers/:customer_id/budget") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: RemoveBudgetBody.self, status: .ok, tenant: customerID) { change, body in
                try await services.budgets.remove(customerID: customerID, verificationCode: body.verificationCode, context: change)
            }
        }
    }
}

/// Every priced resource type (the list is short: never paged).
struct PriceList: Encodable, Sendable {
    var items: [Price]
}
