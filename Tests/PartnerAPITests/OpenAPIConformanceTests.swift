import Foundation
import HTTPTypes
import PartnerAPI
import PartnerCore
import Testing

/// The shipped OpenAPI document and the live routes describe the same API: the same
/// operations, and answers whose status is documented and whose body has the documented shape.
@Suite("OpenAPI document")
struct OpenAPIConformanceTests {
    @Test func everyDocumentedOperationIsARouteAndEveryRouteIsDocumented() async throws {
        let document = try OpenAPIDocument.load()
        try await withAPI { (api) async throws in
            let router = buildRouter(configuration: .init(codeDelivery: .response), services: api.services)
            // The console's static pages are HTML for people, not part of the JSON API.
            let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
                .filter { !$0.hasPrefix("GET /console") }
            #expect(routes.count >= 30)
            #expect(routes.subtracting(document.operations).sorted() == [], "routes missing from the document")
            #expect(document.operations.subtracting(routes).sorted() == [], "documented operations without a route")
        }
    }

    /// The same from the outside: every documented operation answers, and not "no such endpoint".
    @Test func everyDocumentedOperationAnswers() async throws {
        let document = try OpenAPIDocument.load()
        try await withAPI { (api) async throws in
            for operation in document.operations.sorted() {
                let parts = operation.split(separator: " ", maxSplits: 1)
                let method = HTTPRequest.Method(String(parts[0]))!
                let path = Route.fill(String(parts[1]), [
                    "distributor_id": "\(UUID())", "partner_id": "\(UUID())", "customer_id": "\(UUID())", "resource_id": "\(UUID())", "webhook_id": "\(UUID())",
                ])
                let result = try await api.call(method, path, as: api.operatorToken, json: method == .get ? nil : "{}")
                #expect(result.json["error"]?["message"]?.string != "no such endpoint", "\(operation): \(result)")
                #expect(result.code < 500, "\(operation): \(result)")
                #expect(document.statuses(String(parts[0]), String(parts[1])).contains(result.code),
                        "\(operation) answered \(result.code), which the document does not list")
            }
        }
    }

    /// Walks every operation through its success and typical refusals, checking each answer
    /// against the document: the status is listed, and the body matches its schema.
    @Test func answersMatchTheDocumentedSchemas() async throws {
        let document = try OpenAPIDocument.load()
        try await withAPI { (api) async throws in
            var checked: Set<String> = []
            @discardableResult
            func check(
                _ method: HTTPRequest.Method, _ template: String, _ path: String? = nil, as token: String?, json body: String? = nil,
                expect status: Int, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> APIResult {
                let result = try await api.call(method, path ?? template, as: token, json: body)
                #expect(result.code == status, "\(method) \(template): \(result)", sourceLocation: sourceLocation)
                #expect(document.statuses(method.rawValue, template).contains(result.code),
                        "\(method) \(template): \(result.code) is not documented", sourceLocation: sourceLocation)
                if let schema = document.responseSchema(method.rawValue, template, status: result.code) {
                    let problems = document.violations(of: result.json, against: schema)
                    #expect(problems == [], "\(method) \(template) \(result.code): \(problems)", sourceLocation: sourceLocation)
                } else if template != "/metrics" {
                    Issue.record("\(method) \(template) \(result.code) has no JSON schema", sourceLocation: sourceLocation)
                }
                checked.insert("\(method.rawValue) \(template)")
                return result
            }
            let op = api.operatorToken

            // Operations.
            try await check(.get, "/healthz", as: nil, expect: 200)
            try await check(.get, "/readyz", as: nil, expect: 200)
            try await check(.get, "/openapi.json", as: nil, expect: 200)
            #expect(try await api.call(.get, "/metrics").code == 200)
            checked.insert("GET /metrics")

            // Provisioning.
            let distributor = try await check(.post, "/v1/distributors", as: op, json: #"{"name":"D","retention_seconds":60}"#, expect: 201)
            let distributorID = try #require(distributor.json["id"]?.string)
            try await check(.patch, "/v1/distributors/{distributor_id}", "/v1/distributors/\(distributorID)", as: op,
                            json: #"{"retention_seconds":120}"#, expect: 200)
            let partner = try await check(.post, "/v1/partners", as: op, json: #"{"distributor_id":"\#(distributorID)","name":"P"}"#, expect: 201)
            let partnerID = try #require(partner.json["id"]?.string)
            try await check(.patch, "/v1/partners/{partner_id}", "/v1/partners/\(partnerID)", as: op,
                            json: #"{"retention_seconds":90}"#, expect: 200)
            let customer = try await check(.post, "/v1/customers", as: op, json: #"{"partner_id":"\#(partnerID)","name":"C"}"#, expect: 201)
            let customerID = try #require(customer.json["id"]?.string)
            let resourcesTemplate = "/v1/customers/{customer_id}/resources"
            let resourcesPath = "/v1/customers/\(customerID)/resources"
            try await check(.post, resourcesTemplate, resourcesPath, as: op, json: #"{"type":"vm","billing_mode":"pay_per_use","count":3}"#, expect: 201)
            let prepaid = try await check(.post, resourcesTemplate, resourcesPath, as: op, json: #"{"type":"db","billing_mode":"prepaid"}"#, expect: 201)
            let prepaidID = try #require(prepaid.json["id"]?.string)
            func key(_ kind: String, _ id: String) async throws -> String {
                let created = try await check(.post, "/v1/api-keys", as: op, json: #"{"principal_kind":"\#(kind)","principal_id":"\#(id)"}"#, expect: 201)
                return try #require(created.json["token"]?.string)
            }
            let distributorToken = try await key("distributor", distributorID)
            let partnerToken = try await key("partner", partnerID)
            let customerToken = try await key("customer", customerID)

            // Distributor.
            try await check(.get, "/v1/partners", as: distributorToken, expect: 200)
            let permission = "/v1/partners/{partner_id}/freeze-permission"
            let permissionPath = "/v1/partners/\(partnerID)/freeze-permission"
            try await check(.get, permission, permissionPath, as: distributorToken, expect: 200)
            try await check(.put, permission, permissionPath, as: distributorToken, expect: 200)
            try await check(.get, permission, permissionPath, as: partnerToken, expect: 200)

            // Partner.
            try await check(.get, "/v1/settings", as: partnerToken, expect: 200)
            try await check(.get, "/v1/agreement", as: partnerToken, expect: 200)
            try await check(.post, "/v1/verification-codes", as: partnerToken, json: #"{"purpose":"freeze"}"#, expect: 202)
            try await check(.post, "/v1/verification-codes", as: partnerToken, json: #"{"purpose":"freeze"}"#, expect: 429)
            try await check(.get, "/v1/customers", as: partnerToken, expect: 200)
            let freeze = "/v1/customers/{customer_id}/freeze"
            let unfreeze = "/v1/customers/{customer_id}/unfreeze"
            try await check(.get, "/v1/retention-policies", as: customerToken, expect: 200)
            try await check(.put, "/v1/retention-policies/{level}", "/v1/retention-policies/v1", as: op,
                            json: #"{"freeze_retention_seconds":600,"prepaid_grace_seconds":60,"prepaid_retention_seconds":60}"#, expect: 200)
            try await check(.patch, "/v1/customers/{customer_id}", "/v1/customers/\(customerID)", as: op, json: #"{"level":"v1"}"#, expect: 200)
            try await check(.post, freeze, "/v1/customers/\(customerID)/freeze", as: partnerToken,
                            json: #"{"dry_run":true,"lift_at":"\#(ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400)))"}"#,
                            expect: 200)
            try await check(.post, freeze, "/v1/customers/\(customerID)/freeze", as: partnerToken, json: FreezeTests.accepted, expect: 200)
            try await check(.post, freeze, "/v1/customers/\(customerID)/freeze", as: partnerToken, json: FreezeTests.accepted, expect: 409)
            try await check(.get, "/v1/customers/{customer_id}", "/v1/customers/\(customerID)", as: partnerToken, expect: 200)
            try await check(.get, resourcesTemplate, resourcesPath, as: partnerToken, expect: 200)
            try await check(.post, "/v1/customers/{customer_id}/orders", "/v1/customers/\(customerID)/orders", as: customerToken,
                            json: Route.order.bodyTemplate, expect: 409)
            let frozenID = try #require(try await api.client.string(
                "SELECT id::text FROM resources WHERE customer_id = $1::uuid AND state = 'frozen' LIMIT 1", [customerID]))
            let usage = "/v1/customers/{customer_id}/resources/{resource_id}/usage"
            try await check(.post, usage, "/v1/customers/\(customerID)/resources/\(frozenID)/usage", as: customerToken,
                            json: #"{"quantity":1}"#, expect: 423)
            try await api.release([ResourceID(UUID(uuidString: frozenID)!)])
            try await check(.post, usage, "/v1/customers/\(customerID)/resources/\(frozenID)/usage", as: customerToken,
                            json: #"{"quantity":1}"#, expect: 410)
            try await check(.post, unfreeze, "/v1/customers/\(customerID)/unfreeze", as: partnerToken, json: #"{"reason":"ok"}"#, expect: 200)
            try await check(.post, unfreeze, "/v1/customers/\(customerID)/unfreeze", as: partnerToken, json: #"{"reason":"ok"}"#, expect: 409)
            try await check(.post, "/v1/customers/freeze", as: partnerToken,
                            json: #"{"customer_ids":["\#(customerID)","\#(UUID())"],"type":"purchase","reason":"r"}"#, expect: 200)
            try await check(.post, "/v1/customers/unfreeze", as: partnerToken,
                            json: #"{"customer_ids":["\#(customerID)","\#(UUID())"],"reason":"r"}"#, expect: 200)
            try await check(.patch, "/v1/settings", as: partnerToken, json: #"{"verification_code_required":false}"#, expect: 200)

            // Customer.
            let orders = "/v1/customers/{customer_id}/orders"
            let ordersPath = "/v1/customers/\(customerID)/orders"
            try await check(.post, orders, ordersPath, as: customerToken, json: Route.order.bodyTemplate, expect: 201)
            try await check(.post, orders, ordersPath, as: customerToken,
                            json: #"{"action":"renew","resource_id":"\#(prepaidID)","term_months":3}"#, expect: 201)
            try await check(.post, orders, ordersPath, as: customerToken,
                            json: #"{"action":"change","resource_id":"\#(prepaidID)","spec":{"tier":"gold"}}"#, expect: 201)
            let activeID = try #require(try await api.client.string(
                "SELECT id::text FROM resources WHERE customer_id = $1::uuid AND state = 'active' AND billing_mode = 'pay_per_use' LIMIT 1",
                [customerID]))
            try await check(.post, usage, "/v1/customers/\(customerID)/resources/\(activeID)/usage", as: customerToken,
                            json: #"{"quantity":1}"#, expect: 202)

            // Budgets (the partner still holds the grant).
            try await check(.put, "/v1/prices/{resource_type}", "/v1/prices/vm", as: op,
                            json: #"{"usage_unit_price":"0.5","monthly_price":"20"}"#, expect: 200)
            try await check(.get, "/v1/prices", as: customerToken, expect: 200)
            let budget = "/v1/customers/{customer_id}/budget"
            let budgetPath = "/v1/customers/\(customerID)/budget"
            try await check(.get, budget, budgetPath, as: customerToken, expect: 404)
            try await check(.put, budget, budgetPath, as: partnerToken,
                            json: #"{"amount":"100","period":"monthly","on_exhaustion":"restrict_purchase"}"#, expect: 200)
            try await check(.get, budget, budgetPath, as: customerToken, expect: 200)
            try await check(.delete, budget, budgetPath, as: partnerToken, expect: 200)

            // Webhooks (a subscription is its owner's).
            let hook = try await check(.post, "/v1/webhooks", as: partnerToken,
                                       json: #"{"url":"http://127.0.0.1:9/hook","event_types":["customer.restricted"]}"#, expect: 201)
            let hookID = try #require(hook.json["id"]?.string)
            try await check(.get, "/v1/webhooks", as: partnerToken, expect: 200)
            try await check(.get, "/v1/webhooks/{webhook_id}/deliveries", "/v1/webhooks/\(hookID)/deliveries", as: partnerToken, expect: 200)
            try await check(.get, "/v1/webhooks/{webhook_id}/deliveries", "/v1/webhooks/\(hookID)/deliveries", as: distributorToken,
                            expect: 404)
            try await check(.delete, "/v1/webhooks/{webhook_id}", "/v1/webhooks/\(hookID)", as: partnerToken, expect: 200)
            try await check(.post, "/v1/webhooks", as: partnerToken, json: #"{"url":"http://example.com/hook"}"#, expect: 422)

            // Feeds, then revoke.
            try await check(.get, "/v1/audit-events", as: distributorToken, expect: 200)
            try await check(.get, "/v1/events", as: partnerToken, expect: 200)
            try await check(.delete, permission, permissionPath, as: distributorToken, expect: 200)

            // A key revoked by its own principal.
            let spare = try await check(.post, "/v1/api-keys", as: op, json: #"{"principal_kind":"partner","principal_id":"\#(partnerID)"}"#, expect: 201)
            let spareID = try #require(spare.json["id"]?.string)
            try await check(.delete, "/v1/api-keys/{key_id}", "/v1/api-keys/\(spareID)", as: try #require(spare.json["token"]?.string), expect: 200)
            try await check(.delete, "/v1/api-keys/{key_id}", "/v1/api-keys/\(spareID)", as: op, expect: 404)

            // Refusals have the documented error shape.
            try await check(.get, "/v1/customers", as: nil, expect: 401)
            try await check(.post, "/v1/distributors", as: partnerToken, json: #"{"name":"x"}"#, expect: 403)
            try await check(.get, "/v1/customers/{customer_id}", "/v1/customers/\(UUID())", as: partnerToken, expect: 404)
            try await check(.get, "/v1/customers", "/v1/customers?limit=0", as: partnerToken, expect: 422)
            try await check(.post, "/v1/distributors", as: op, json: #"{"name":"\#(String(repeating: "x", count: 1 << 20))"}"#, expect: 413)

            #expect(document.operations.subtracting(checked).sorted() == [], "operations the walk did not check")
        }
    }
}
