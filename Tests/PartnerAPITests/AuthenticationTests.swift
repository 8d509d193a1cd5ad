import Foundation
import HTTPTypes
import PartnerCore
import Testing

/// Every /v1 route needs a known API key (401 `unauthenticated`), and each kind of
/// principal is refused the routes that are not its own (403 `forbidden`), changing nothing.
@Suite("Authentication and principal kinds")
struct AuthenticationTests {
    static let badAuthorizations: [String?] = [
        nil,  // no header
        "Bearer pc_\(String(repeating: "A", count: 43))",  // well-formed, unknown
        "Bearer not-a-key",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "pc_AAAA",
    ]

    @Test func everyV1RouteNeedsAKnownAPIKey() async throws {
        try await withAPI { (api) async throws in
            let ids = ["distributor_id": UUID().uuidString, "partner_id": UUID().uuidString,
                       "customer_id": UUID().uuidString, "resource_id": UUID().uuidString]
            let before = try await api.snapshot()
            for route in Route.all {
                for authorization in Self.badAuthorizations {
                    var headers: HTTPFields = [:]
                    if let authorization { headers[.authorization] = authorization }
                    let result = try await api.call(route.method, route.path(ids), json: route.body(ids), headers: headers)
                    expectError(result, 401, "unauthenticated")
                }
            }
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func theOperationsEndpointsNeedNoKey() async throws {
        try await withAPI { (api) async throws in
            for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
                #expect(try await api.call(.get, path).code == 200, "\(path)")
            }
        }
    }

    /// Each principal kind against the routes it may not call, with its own (or valid) ids.
    @Test(arguments: [Principal.Kind.operator, .distributor, .partner, .customer])
    func wrongKindOfPrincipalIsForbidden(_ kind: Principal.Kind) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let ids = ["distributor_id": tenant.distributor.id.uuidString, "partner_id": tenant.partner.id.uuidString,
                       "customer_id": tenant.customer.id.uuidString, "resource_id": tenant.payPerUseIDs[0].uuidString]
            let token: String
            let forbidden: [Route]
            switch kind {
            case .operator:
                token = api.operatorToken
                forbidden = Route.distributorOnly + Route.partnerOrDistributor + Route.customerOnly
            case .distributor:
                token = tenant.distributor.token
                forbidden = Route.operatorOnly + Route.customerOnly
            case .partner:
                token = tenant.partner.token
                forbidden = Route.operatorOnly + Route.distributorOnly + Route.customerOnly
            case .customer:
                token = tenant.customer.token
                forbidden = Route.operatorOnly + Route.distributorOnly + Route.partnerOrDistributor
            }
            let before = try await api.snapshot()
            for route in forbidden {
                let result = try await api.call(route.method, route.path(ids), as: token, json: route.body(ids))
                #expect(result.code == 403 && result.errorCode == "forbidden", "\(kind) \(route.testDescription): \(result)")
            }
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func aKeyIsTheBearerTokenWhateverTheSchemeCase() async throws {
        try await withAPI { (api) async throws in
            let result = try await api.call(.get, "/v1/agreement", headers: [.authorization: "bearer \(api.operatorToken)"])
            expectSuccess(result, 200)
        }
    }
}
