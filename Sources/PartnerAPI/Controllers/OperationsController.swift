import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PartnerCore
import Postgres

/// Health, readiness, metrics and the OpenAPI document: no authentication.
struct OperationsController: Sendable {
    let client: PostgresClient

    /// The API's OpenAPI 3 document, shipped as a resource of this module.
    static let openAPIDocument: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return Data("{}".utf8) }
        return data
    }()

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("healthz", use: health)
            .get("readyz", use: ready)
            .get("metrics", use: metrics)
            .get("openapi.json", use: openAPI)
    }

    /// GET /healthz: the process answers; the database is not asked.
    @Sendable func health(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        APIResponse(status: .ok, body: Data(#"{"status":"ok"}"#.utf8)).response(requestID: context.requestID)
    }

    /// GET /readyz: 503 while the database is not reachable.
    @Sendable func ready(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard await client.isReady() else {
            throw PartnerError(.serviceUnavailable, "the database is not reachable")
        }
        return APIResponse(status: .ok, body: Data(#"{"status":"ready"}"#.utf8)).response(requestID: context.requestID)
    }

    /// GET /metrics: Prometheus text, with the connection pool's statistics.
    @Sendable func metrics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let bytes = AppMetrics.scrape(pool: client.statistics)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// GET /openapi.json
    @Sendable func openAPI(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        APIResponse(status: .ok, body: Self.openAPIDocument).response(requestID: context.requestID)
    }
}
