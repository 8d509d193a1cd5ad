import Hummingbird
import PartnerCore

/// A customer's purchases and usage, through the purchase gate.
struct OrderController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.post("customers/:customer_id/orders") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: OrderBody.self, status: .created, tenant: customerID) { change, body in
                try await services.purchases.order(customerID: customerID, try body.request(), context: change)
            }
        }
        router.post("customers/:customer_id/resources/:resource_id/usage") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            let resourceID = try context.pathID("resource_id", "the resource")
            return try await endpoint.write(request, context, as: UsageBody.self, status: .accepted, tenant: customerID) { change, body in
                try await services.purchases.recordUsage(
                    customerID: customerID, resourceID: resourceID, quantity: body.quantity, context: change)
            }
        }
    }
}
