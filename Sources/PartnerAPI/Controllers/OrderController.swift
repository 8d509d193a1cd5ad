import Hummingbird
import PartnerCore

/// A customer's purchases and usage, through the purchase gate.
struct OrderController: Sendable {
    let purchases: PurchaseGate
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("customers/:customer_id/orders", use: order)
            .post("customers/:customer_id/resources/:resource_id/usage", use: recordUsage)
    }

    /// POST /v1/customers/:customer_id/orders
    @Sendable func order(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.write(
            request, context, as: OrderBody.self, status: .created, tenant: customerID
        ) { change, body in
            try await purchases.order(customerID: customerID, try body.request(), context: change)
        }
    }

    /// POST /v1/customers/:customer_id/resources/:resource_id/usage
    @Sendable func recordUsage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        let resourceID: ResourceID = try context.pathID("resource_id", "the resource")
        return try await endpoint.write(
            request, context, as: UsageBody.self, status: .accepted, tenant: customerID
        ) { change, body in
            try await purchases.recordUsage(
                customerID: customerID, resourceID: resourceID, quantity: body.quantity, context: change)
        }
    }
}
