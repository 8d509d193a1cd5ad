import Hummingbird
import PartnerCore

/// Operator provisioning: distributors, partners, customers, (bulk) resources, API keys.
struct ProvisioningController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.post("distributors") { request, context in
            try await endpoint.write(request, context, as: CreateDistributorBody.self) { change, body in
                try APIResponse(.created, try await services.provisioning.createDistributor(
                    name: body.name, retentionSeconds: body.retentionSeconds, context: change))
            }
        }
        router.patch("distributors/:distributor_id") { request, context in
            let id = try context.pathID("distributor_id", "the distributor")
            return try await endpoint.write(request, context, as: UpdateTenantBody.self) { change, body in
                try APIResponse(.ok, try await services.provisioning.updateDistributor(
                    id: id, status: body.status, retentionSeconds: body.retentionSeconds, context: change))
            }
        }
        router.post("partners") { request, context in
            try await endpoint.write(request, context, as: CreatePartnerBody.self) { change, body in
                try APIResponse(.created, try await services.provisioning.createPartner(
                    distributorID: body.distributorId, name: body.name, context: change))
            }
        }
        router.patch("partners/:partner_id") { request, context in
            let id = try context.pathID("partner_id", "the partner")
            return try await endpoint.write(request, context, as: UpdateTenantBody.self) { change, body in
                try APIResponse(.ok, try await services.provisioning.updatePartner(
                    id: id, status: body.status, retentionSeconds: body.retentionSeconds, context: change))
            }
        }
        router.post("customers") { request, context in
            try await endpoint.write(request, context, as: CreateCustomerBody.self) { change, body in
                let id = try await services.provisioning.createCustomer(partnerID: body.partnerId, name: body.name, context: change)
                return try APIResponse(.created, try await services.customers.get(change.principal, customerID: id))
            }
        }
        router.post("customers/:customer_id/resources") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: CreateResourcesBody.self) { change, body in
                try APIResponse(.created, try await services.provisioning.createResources(
                    customerID: customerID,
                    ResourceProvisioning(
                        type: body.type, billingMode: body.billingMode, expiresAt: body.expiresAt, dataBytes: body.dataBytes,
                        count: body.count),
                    context: change))
            }
        }
        router.post("api-keys") { request, context in
            try await endpoint.write(request, context, as: CreateAPIKeyBody.self) { change, body in
                try APIResponse(.created, try await services.apiKeys.create(
                    kind: body.principalKind, principalID: body.principalId, context: change))
            }
        }
    }
}
