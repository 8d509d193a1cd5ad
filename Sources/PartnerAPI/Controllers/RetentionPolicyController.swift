import Hummingbird
import PartnerCore

/// The retention policy of each customer level (DESIGN §9): read by every principal, set by
/// the operator.
struct RetentionPolicyController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.get("retention-policies") { request, context in
            try await endpoint.read(request, context) { _ in
                try APIResponse(.ok, RetentionPolicyList(items: try await services.retentionPolicies.list()))
            }
        }
        router.put("retention-policies/:level") { request, context in
            guard let text = context.parameters.get("level"), let level = CustomerLevel(rawValue: text) else {
                throw PartnerError.notFound("the customer level")
            }
            return try await endpoint.write(request, context, as: RetentionPolicyBody.self, status: .ok) { change, body in
                try await services.retentionPolicies.update(
                    level: level, freezeRetentionSeconds: body.freezeRetentionSeconds, prepaidGraceSeconds: body.prepaidGraceSeconds,
                    prepaidRetentionSeconds: body.prepaidRetentionSeconds, context: change)
            }
        }
    }
}

/// The six levels' policies, v0 first (all of them: never paged).
struct RetentionPolicyList: Encodable, Sendable {
    var items: [RetentionPolicy]
}
