import Hummingbird
import PartnerCore

/// The audit log and the outbox events feed, each scoped to the caller.
struct FeedController: Sendable {
    let auditLog: AuditLog
    let outbox: Outbox
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("audit-events", use: listAuditEvents)
            .get("events", use: listEvents)
    }

    /// GET /v1/audit-events: optionally of one customer.
    @Sendable func listAuditEvents(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await auditLog.list(
                principal, customerID: try request.idQuery("customer_id"), page: try request.pageRequest()))
        }
    }

    /// GET /v1/events: paged with `after`, so a consumer can follow the feed.
    @Sendable func listEvents(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await outbox.feed(principal, page: try request.pageRequest(cursorName: "after")))
        }
    }
}
