import Hummingbird
import PartnerCore

/// Operator provisioning: distributors, partners, customers, (bulk) resources, API keys;
/// revoking a key is also its own principal's right.
struct ProvisioningController {
    let services: PartnerServices
    let endpoint: Endpoint
    /// Told of a revocation, so the key stops working on this server at once.
    let principals: PrincipalCache

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        let principals = self.principals
        router.post("distributors") { request, context in
            try await endpoint.write(request, context, as: CreateDistributorBody.self, status: .created) { change, body in
                try await services.provisioning.createDistributor(
                    name: body.name, retentionSeconds: body.retentionSeconds, context: change)
            }
        }
        router.patch("distributors/:distributor_id") { request, context in
            let id = try context.pathID("distributor_id", "the distributor")
            return try await endpoint.write(request, context, as: UpdateTenantBody.self, status: .ok) { change, body in
                try await services.provisioning.updateDistributor(
                    id: id, status: body.status, retentionSeconds: body.retentionSeconds, clearRetention: body.clearRetention,
                    context: change)
            }
        }
        router.post("partners") { request, context in
            try await endpoint.write(request, context, as: CreatePartnerBody.self, status: .created) { change, body in
                try await services.provisioning.createPartner(
                    distributorID: body.distributorId, name: body.name, context: change)
            }
        }
        router.patch("partners/:partner_id") { request, context in
            let id = try context.pathID("partner_id", "the partner")
            return try await endpoint.write(request, context, as: UpdateTenantBody.self, status: .ok) { change, body in
                try await services.provisioning.updatePartner(
                    id: id, status: body.status, retentionSeconds: body.retentionSeconds, clearRetention: body.clearRetention,
                    context: change)
            }
        }
        router.post("customers") { request, context in
            try await endpoint.write(request, context, as: CreateCustomerBody.self, status: .created) { change, body in
                try await services.provisioning.createCustomer(
                    partnerID: body.partnerId, name: body.name, level: body.level ?? .v0, context: change)
            }
        }
        router.patch("customers/:customer_id") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: UpdateCustomerBody.self, status: .ok, tenant: customerID) { change, body in
                try await services.provisioning.updateCustomer(id: customerID, level: body.level, context: change)
            }
        }
        router.post("customers/:customer_id/resources") { request, context in
            let customerID = try context.pathID("customer_id", "the customer")
            return try await endpoint.write(request, context, as: CreateResourcesBody.self, status: .created, tenant: customerID) { change, body in
                try await services.provisioning.createResources(
                    customerID: customerID,
                    ResourceProvisioning(
                        type: body.type, billingMode: body.billingMode, expiresAt: body.expiresAt, dataBytes: body.dataBytes,
                        count: body.count),
                    context: change)
            }
        }
        router.post("api-keys") { request, context in
            try await endpoint.write(request, context, as: CreateAPIKeyBody.self, status: .created) { change, body in
                try await services.apiKeys.create(
                    kind: body.principalKind, principalID: body.principalId, expiresAt: body.expiresAt, context: change)
            }
        }
        router.delete("api-keys/:key_id") { request, context in
            let keyID = try context.pathID("key_id", "the API key")
            return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
                let revoked = try await services.apiKeys.revoke(keyID: keyID, context: change)
                principals.forget(keyID: keyID)
                return revoked
            }
        }
    }
}
