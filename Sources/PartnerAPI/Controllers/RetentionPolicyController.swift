import Hummingbird
import PartnerCore

/// The retention policy of each customer level (DESIGN §9): read by every principal, set by
/// the operator.
struct RetentionPolicyController: Sendable {
    let retentionPolicies: RetentionPolicies
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("retention-policies", use: list)
            .put("retention-policies/:level", use: update)
    }

    /// GET /v1/retention-policies
    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { _ in
            try APIResponse(.ok, RetentionPolicyList(items: try await retentionPolicies.list()))
        }
    }

    /// PUT /v1/retention-policies/:level: a level that does not exist names nothing (404).
    @Sendable func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let text = context.parameters.get("level"), let level = CustomerLevel(rawValue: text) else {
            throw PartnerError.notFound("the customer level")
        }
        return try await endpoint.write(request, context, as: RetentionPolicyBody.self, status: .ok) { change, body in
            try await retentionPolicies.update(
                level: level, freezeRetentionSeconds: body.freezeRetentionSeconds, prepaidGraceSeconds: body.prepaidGraceSeconds,
                prepaidRetentionSeconds: body.prepaidRetentionSeconds, context: change)
        }
    }
}

/// The six levels' policies, v0 first (all of them: never paged).
struct RetentionPolicyList: Encodable, Sendable {
    var items: [RetentionPolicy]
}
