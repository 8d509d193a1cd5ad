import Hummingbird
import PartnerCore

/// Restrict purchases and freeze resources, and lift it: one customer or a batch of ten.
struct RestrictionController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.post("customers/freeze") { request, context in
            try await endpoint.write(request, context, as: BatchFreezeBody.self, status: .ok) { change, body in
                try refuseDryRun(body.dryRun)
                let request = FreezeRequest(
                    type: body.type, reason: body.reason, agreementAccepted: body.agreementAccepted,
                    verificationCode: body.verificationCode, liftAt: body.liftAt)
                let results = try await services.restrictions.freeze(customerIDs: body.customerIds, request, context: change)
                return BatchResults(results: results)
            }
        }
        router.post("customers/unfreeze") { request, context in
            try await endpoint.write(request, context, as: BatchUnfreezeBody.self, status: .ok) { change, body in
                try refuseDryRun(body.dryRun)
                let request = UnfreezeRequest(type: body.type, reason: body.reason, verificationCode: body.verificationCode)
                let results = try await services.restrictions.unfreeze(customerIDs: body.customerIds, request, context: change)
                return BatchResults(results: results)
            }
        }
        router.post("customers/:customer_id/freeze") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            // A dry run is a read: no idempotency record is kept for it.
            return try await endpoint.write(
                request, context, as: FreezeBody.self, status: .ok, tenant: customerID, storesAnswer: { $0.dryRun != true }
            ) { (change, body) async throws -> FreezeAnswer in
                if body.dryRun == true {
                    return .preview(try await services.restrictions.preview(
                        customerID: customerID, type: body.type, liftAt: body.liftAt, principal: change.principal))
                }
                return .done(try await services.restrictions.freeze(customerID: customerID, body.request, context: change))
            }
        }
        router.post("customers/:customer_id/unfreeze") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: UnfreezeBody.self, status: .ok, tenant: customerID) { change, body in
                try refuseDryRun(body.dryRun)
                return try await services.restrictions.unfreeze(customerID: customerID, body.request, context: change)
            }
        }
    }
}
