import Hummingbird
import PartnerCore

/// Restrict purchases and freeze resources, and lift it: one customer or a batch of ten.
struct RestrictionController: Sendable {
    let restrictions: Restrictions
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("customers/freeze", use: freezeBatch)
            .post("customers/unfreeze", use: unfreezeBatch)
            .post("customers/:customer_id/freeze", use: freeze)
            .post("customers/:customer_id/unfreeze", use: unfreeze)
    }

    /// POST /v1/customers/freeze: one result per customer; no dry run for a batch.
    @Sendable func freezeBatch(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: BatchFreezeBody.self, status: .ok) { change, body in
            try refuseDryRun(body.dryRun)
            let request = FreezeRequest(
                type: body.type, reason: body.reason, agreementAccepted: body.agreementAccepted,
                verificationCode: body.verificationCode, liftAt: body.liftAt)
            let results = try await restrictions.freeze(customerIDs: body.customerIds, request, context: change)
            return BatchResults(results: results)
        }
    }

    /// POST /v1/customers/unfreeze: one result per customer; no dry run for a batch.
    @Sendable func unfreezeBatch(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: BatchUnfreezeBody.self, status: .ok) { change, body in
            try refuseDryRun(body.dryRun)
            let request = UnfreezeRequest(type: body.type, reason: body.reason, verificationCode: body.verificationCode)
            let results = try await restrictions.unfreeze(customerIDs: body.customerIds, request, context: change)
            return BatchResults(results: results)
        }
    }

    /// POST /v1/customers/:customer_id/freeze: a dry run answers with a preview instead.
    @Sendable func freeze(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        // A dry run is a read: no idempotency record is kept for it.
        return try await endpoint.write(
            request, context, as: FreezeBody.self, status: .ok, tenant: customerID, storesAnswer: { $0.dryRun != true }
        ) { (change, body) async throws -> FreezeAnswer in
            if body.dryRun == true {
                return .preview(try await restrictions.preview(
                    customerID: customerID, type: body.type, liftAt: body.liftAt, principal: change.principal))
            }
            return .done(try await restrictions.freeze(customerID: customerID, body.request, context: change))
        }
    }

    /// POST /v1/customers/:customer_id/unfreeze
    @Sendable func unfreeze(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.write(
            request, context, as: UnfreezeBody.self, status: .ok, tenant: customerID
        ) { change, body in
            try refuseDryRun(body.dryRun)
            return try await restrictions.unfreeze(customerID: customerID, body.request, context: change)
        }
    }
}
