import Hummingbird
import PartnerCore

/// Operator provisioning: distributors, partners, customers, (bulk) resources, API keys;
/// revoking a key is also its own principal's right.
struct ProvisioningController: Sendable {
    let provisioning: Provisioning
    let apiKeys: APIKeys
    let endpoint: Endpoint
    /// Told of a revocation, so the key stops working on this server at once.
    let principals: PrincipalCache

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("distributors", use: createDistributor)
            .patch("distributors/:distributor_id", use: updateDistributor)
            .post("partners", use: createPartner)
            .patch("partners/:partner_id", use: updatePartner)
            .post("customers", use: createCustomer)
            .patch("customers/:customer_id", use: updateCustomer)
            .post("customers/:customer_id/resources", use: createResources)
            .post("api-keys", use: createAPIKey)
            .delete("api-keys/:key_id", use: revokeAPIKey)
    }

    /// POST /v1/distributors
    @Sendable func createDistributor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: CreateDistributorBody.self, status: .created) { change, body in
            try await provisioning.createDistributor(
                name: body.name, retentionSeconds: body.retentionSeconds, context: change)
        }
    }

    /// PATCH /v1/distributors/:distributor_id
    @Sendable func updateDistributor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id: DistributorID = try context.pathID("distributor_id", "the distributor")
        return try await endpoint.write(request, context, as: UpdateTenantBody.self, status: .ok) { change, body in
            try await provisioning.updateDistributor(
                id: id, status: body.status, retentionSeconds: body.retentionSeconds, clearRetention: body.clearRetention,
                context: change)
        }
    }

    /// POST /v1/partners
    @Sendable func createPartner(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: CreatePartnerBody.self, status: .created) { change, body in
            try await provisioning.createPartner(
                distributorID: body.distributorId, name: body.name, context: change)
        }
    }

    /// PATCH /v1/partners/:partner_id
    @Sendable func updatePartner(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id: PartnerID = try context.pathID("partner_id", "the partner")
        return try await endpoint.write(request, context, as: UpdateTenantBody.self, status: .ok) { change, body in
            try await provisioning.updatePartner(
                id: id, status: body.status, retentionSeconds: body.retentionSeconds, clearRetention: body.clearRetention,
                context: change)
        }
    }

    /// POST /v1/customers: a customer without a level starts at v0.
    @Sendable func createCustomer(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: CreateCustomerBody.self, status: .created) { change, body in
            try await provisioning.createCustomer(
                partnerID: body.partnerId, name: body.name, level: body.level ?? .v0, context: change)
        }
    }

    /// PATCH /v1/customers/:customer_id
    @Sendable func updateCustomer(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.write(
            request, context, as: UpdateCustomerBody.self, status: .ok, tenant: customerID
        ) { change, body in
            try await provisioning.updateCustomer(id: customerID, level: body.level, context: change)
        }
    }

    /// POST /v1/customers/:customer_id/resources: `count` resources alike (one by default), in one request.
    @Sendable func createResources(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let customerID: CustomerID = try context.pathID("customer_id", "the customer")
        return try await endpoint.write(
            request, context, as: CreateResourcesBody.self, status: .created, tenant: customerID
        ) { change, body in
            try await provisioning.createResources(
                customerID: customerID,
                ResourceProvisioning(
                    type: body.type, billingMode: body.billingMode, expiresAt: body.expiresAt, dataBytes: body.dataBytes,
                    count: body.count),
                context: change)
        }
    }

    /// POST /v1/api-keys
    @Sendable func createAPIKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: CreateAPIKeyBody.self, status: .created) { change, body in
            try await apiKeys.create(
                kind: body.principalKind, principalID: body.principalId, expiresAt: body.expiresAt, context: change)
        }
    }

    /// DELETE /v1/api-keys/:key_id: the cache forgets the key too, so it stops working here at once.
    @Sendable func revokeAPIKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let keyID = try context.pathID("key_id", "the API key")
        return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
            let revoked = try await apiKeys.revoke(keyID: keyID, context: change)
            principals.forget(keyID: keyID)
            return revoked
        }
    }
}
