import Foundation
import Testing

/// /healthz, /readyz, /metrics and /openapi.json: no authentication, always there.
@Suite("Operations endpoints")
struct OperationsTests {
    @Test func healthzAnswersOkWithoutAKey() async throws {
        try await withAPI { (api) async throws in
            let result = try await api.call(.get, "/healthz")
            expectSuccess(result, 200)
            #expect(result.json["status"]?.string == "ok")
        }
    }

    @Test func readyzAnswersReadyWhileTheDatabaseIsReachable() async throws {
        try await withAPI { (api) async throws in
            let result = try await api.call(.get, "/readyz")
            expectSuccess(result, 200)
            #expect(result.json["status"]?.string == "ready")
        }
    }

    @Test func metricsArePrometheusTextCountingRequests() async throws {
        try await withAPI { (api) async throws in
            try await api.call(.get, "/healthz")
            try await api.call(.get, "/v1/customers", as: api.operatorToken)
            let result = try await api.call(.get, "/metrics")
            #expect(result.code == 200)
            #expect(result.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = result.text
            // Hummingbird's request counter, by route, method and status, under Prometheus's names.
            #expect(text.contains("# TYPE http_server_requests_total counter"), "\(text.prefix(2000))")
            let healthz = text.split(separator: "\n").first {
                $0.hasPrefix("http_server_requests_total{") && $0.contains("/healthz") && $0.contains("200")
            }
            #expect(healthz != nil, "\(text.prefix(2000))")
            #expect(text.contains("# TYPE http_server_request_duration_seconds histogram"))
            // The pool gauges, read at scrape time.
            #expect(text.contains("partner_center_db_pool_connections"))
            #expect(text.contains("partner_center_db_pool_waiting"))
        }
    }

    /// Prometheus's conventions (DESIGN §11): every counter ends in `_total`, every histogram
    /// in `_seconds`; the domain counters count what the requests did.
    @Test func metricNamesFollowPrometheusConventionsAndCountTheDomain() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let customer = tenant.customer.id
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(customer)/freeze", as: tenant.partner.token, json: FreezeTests.accepted), 200)
            expectError(try await api.call(.post, "/v1/customers/\(customer)/orders", as: tenant.customer.token,
                                           json: Route.order.bodyTemplate), 409, "purchase_restricted")
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(customer)/unfreeze", as: tenant.partner.token, json: #"{"reason":"paid"}"#), 200)
            let text = try await api.call(.get, "/metrics").text
            let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ") }
            for type in types where type.count == 4 {
                switch type[3] {
                case "counter": #expect(type[2].hasSuffix("_total"), "\(type[2])")
                case "histogram": #expect(type[2].hasSuffix("_seconds"), "\(type[2])")
                default: break
                }
            }
            func value(_ prefix: String) -> Double {
                text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                    .reduce(0, +)
            }
            #expect(value(#"partner_center_restrictions_applied_total{type="purchase_and_resources",origin="manual"}"#) >= 1, "\(text)")
            #expect(value("partner_center_resources_frozen_total") >= 3)
            #expect(value("partner_center_restrictions_lifted_total") >= 1)
            #expect(value("partner_center_purchases_refused_total") >= 1)
        }
    }

    @Test func openAPIDocumentIsServed() async throws {
        try await withAPI { (api) async throws in
            let result = try await api.call(.get, "/openapi.json")
            expectSuccess(result, 200)
            #expect(result.json["openapi"]?.string?.hasPrefix("3.") == true)
            #expect(result.json["paths"]?["/v1/customers/{customer_id}/freeze"] != nil)
            #expect(result.body == (try OpenAPIDocument.load().data))
        }
    }

    @Test func unknownPathsAreNotFoundInTheErrorFormat() async throws {
        try await withAPI { (api) async throws in
            expectError(try await api.call(.get, "/nope"), 404, "not_found")
            expectError(try await api.call(.get, "/v1/nope", as: api.operatorToken), 404, "not_found")
        }
    }

    @Test func everyAnswerCarriesARequestIDAndEchoesASaneOne() async throws {
        try await withAPI { (api) async throws in
            let generated = try await api.call(.get, "/healthz")
            #expect(UUID(uuidString: generated.headers[.init("X-Request-ID")!] ?? "") != nil)
            let echoed = try await api.call(.get, "/healthz", headers: [.init("X-Request-ID")!: "trace-42.a:b"])
            #expect(echoed.headers[.init("X-Request-ID")!] == "trace-42.a:b")
            let refused = try await api.call(.get, "/healthz", headers: [.init("X-Request-ID")!: "bad id with spaces"])
            #expect(refused.headers[.init("X-Request-ID")!] != "bad id with spaces")
        }
    }
}
