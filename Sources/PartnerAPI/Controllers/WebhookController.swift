import Hummingbird
import PartnerCore

/// A distributor's or partner's webhook subscriptions and their delivery attempts
/// (DESIGN §11).
struct WebhookController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.post("webhooks") { request, context in
            try await endpoint.write(request, context, as: CreateWebhookBody.self, status: .created) { change, body in
                try await services.webhooks.create(url: body.url, eventTypes: body.eventTypes, context: change)
            }
        }
        router.get("webhooks") { request, context in
            try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, WebhookList(items: try await services.webhooks.list(principal)))
            }
        }
        router.delete("webhooks/:webhook_id") { request, context in
            let id = try context.pathID("webhook_id", "the webhook")
            return try await endpoint.write(request, context, as: EmptyBody.self, status: .ok) { change, _ in
                try await services.webhooks.delete(id: id, context: change)
            }
        }
        router.get("webhooks/:webhook_id/deliveries") { request, context in
            let id = try context.pathID("webhook_id", "the webhook")
            return try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.webhooks.attempts(principal, webhookID: id, page: try request.pageRequest()))
            }
        }
    }
}

/// A principal's subscriptions (at most `Webhooks.maximumPerOwner`: never paged).
struct WebhookList: Encodable, Sendable {
    var items: [Webhook]
}
