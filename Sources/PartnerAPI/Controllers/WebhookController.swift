import Hummingbird
import PartnerCore

/// A distributor's or partner's webhook subscriptions and their delivery attempts
/// (DESIGN §11).
struct WebhookController: Sendable {
    let webhooks: Webhooks
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("webhooks", use: create)
            .get("webhooks", use: list)
            .delete("webhooks/:webhook_id", use: delete)
            .get("webhooks/:webhook_id/deliveries", use: listDeliveries)
    }

    /// POST /v1/webhooks
    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: CreateWebhookBody.self, status: .created) { change, body in
            try await webhooks.create(url: body.url, eventTypes: body.eventTypes, context: change)
        }
    }

    /// GET /v1/webhooks
    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, WebhookList(items: try await webhooks.list(principal)))
        }
    }

    /// DELETE /v1/webhooks/:webhook_id
    @Sendable func delete(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try context.pathID("webhook_id", "the webhook")
        return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
            try await webhooks.delete(id: id, context: change)
        }
    }

    /// GET /v1/webhooks/:webhook_id/deliveries: the subscription's delivery attempts.
    @Sendable func listDeliveries(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try context.pathID("webhook_id", "the webhook")
        return try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await webhooks.attempts(principal, webhookID: id, page: try request.pageRequest()))
        }
    }
}

/// A principal's subscriptions (at most `Webhooks.maximumPerOwner`: never paged).
struct WebhookList: Encodable, Sendable {
    var items: [Webhook]
}
