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
            // Hummingbird's request counter, by route, method and status.
            #expect(text.contains("# TYPE hb_requests counter"), "\(text.prefix(2000))")
            let healthz = text.split(separator: "\n").first { $0.hasPrefix("hb_requests{") && $0.contains("/healthz") && $0.contains("200") }
            #expect(healthz != nil, "\(text.prefix(2000))")
            #expect(text.contains("http_server_request_duration"))
            // The pool gauges, read at scrape time.
            #expect(text.contains("partner_center_db_pool_connections"))
            #expect(text.contains("partner_center_db_pool_waiting"))
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
