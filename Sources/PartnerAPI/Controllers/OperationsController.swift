import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PartnerCore
import Postgres

/// Health, readiness, metrics and the OpenAPI document: no authentication.
struct OperationsController {
    let client: PostgresClient

    /// The API's OpenAPI 3 document, shipped as a resource of this module.
    static let openAPIDocument: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return Data("{}".utf8) }
        return data
    }()

    func register(on router: Router<AppRequestContext>) {
        let client = self.client
        router.get("healthz") { _, context in
            APIResponse(status: .ok, body: Data(#"{"status":"ok"}"#.utf8)).response(requestID: context.requestID)
        }
        router.get("readyz") { _, context in
            guard await client.isReady() else {
                throw PartnerError(.serviceUnavailable, "the database is not reachable")
            }
            return APIResponse(status: .ok, body: Data(#"{"status":"ready"}"#.utf8)).response(requestID: context.requestID)
        }
        router.get("metrics") { _, _ in
            let bytes = AppMetrics.scrape(pool: client.statistics)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("openapi.json") { _, context in
            APIResponse(status: .ok, body: Self.openAPIDocument).response(requestID: context.requestID)
        }
    }
}
