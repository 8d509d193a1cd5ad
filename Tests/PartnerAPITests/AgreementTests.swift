import Foundation
import Testing

/// GET /v1/agreement: the agreement a `purchase_and_resources` freeze records.
@Suite("Agreement")
struct AgreementTests {
    @Test func theCurrentAgreementIsReadableByEveryPrincipal() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            for token in [tenant.partner.token, tenant.distributor.token, tenant.customer.token, api.operatorToken] {
                let result = try await api.call(.get, "/v1/agreement", as: token)
                expectSuccess(result, 200)
                #expect(result.json["version"]?.string == "2024-01")
                #expect(result.json["title"]?.string == "Agreement for Partners to Manage Customer Budgets")
                #expect((result.json["text"]?.string ?? "").count > 100)
            }
        }
    }
}
