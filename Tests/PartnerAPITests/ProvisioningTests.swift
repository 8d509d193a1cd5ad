import Foundation
import PartnerCore
import Testing

/// The operator's provisioning endpoints: distributors, partners, customers, resources and
/// API keys, each with its success answer, the database row it made, and its refusals.
@Suite("Provisioning")
struct ProvisioningTests {
    @Test func createDistributorWithTheDefaultRetention() async throws {
        try await withAPI { (api) async throws in
            let result = try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"  Northwind  "}"#)
            expectSuccess(result, 201)
            let id = try #require(result.json["id"]?.uuid)
            #expect(result.json["name"]?.string == "Northwind")
            #expect(result.json["status"]?.string == "active")
            // No retention of its own: its customers' level policies decide (DESIGN §9).
            #expect(result.json["retention_seconds"] == nil)
            #expect(result.json["verification_code_required"]?.bool == false)
            #expect(try await api.client.string("SELECT name FROM distributors WHERE id = $1", [id]) == "Northwind")
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE action = 'distributor.created' AND target_id = $1", [id]) == 1)
        }
    }

    @Test(arguments: [
        #"{"name":""}"#, #"{"name":"   "}"#, #"{"name":"\#(String(repeating: "n", count: 201))"}"#, #"{"name":"a\u0007b"}"#,
        #"{"name":"D","retention_seconds":-1}"#, #"{"name":"D","retention_seconds":31536001}"#, #"{}"#,
    ])
    func createDistributorRefusesBadInput(_ body: String) async throws {
        try await withAPI { (api) async throws in
            let before = try await api.snapshot()
            expectError(try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: body), 422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func updateDistributorChangesStatusAndRetention() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            let result = try await api.call(
                .patch, "/v1/distributors/\(distributor.id)", as: api.operatorToken,
                json: #"{"status":"suspended","retention_seconds":3600}"#)
            expectSuccess(result, 200)
            #expect(result.json["status"]?.string == "suspended")
            #expect(result.json["retention_seconds"]?.int == 3600)
            #expect(try await api.client.string("SELECT status || ':' || retention_seconds FROM distributors WHERE id = $1", [distributor.id])
                == "suspended:3600")
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE action = 'distributor.updated' AND target_id = $1", [distributor.id]) == 1)
        }
    }

    @Test func updateDistributorRefusals() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            let before = try await api.snapshot()
            expectError(try await api.call(
                .patch, "/v1/distributors/\(UUID())", as: api.operatorToken, json: #"{"status":"suspended"}"#), 404, "not_found")
            expectError(try await api.call(
                .patch, "/v1/distributors/not-a-uuid", as: api.operatorToken, json: #"{"status":"suspended"}"#), 404, "not_found")
            expectError(try await api.call(.patch, "/v1/distributors/\(distributor.id)", as: api.operatorToken, json: "{}"),
                        422, "validation_failed")
            expectError(try await api.call(
                .patch, "/v1/distributors/\(distributor.id)", as: api.operatorToken, json: #"{"status":"closed"}"#),
                        422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func createPartnerUnderADistributor() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            let result = try await api.call(
                .post, "/v1/partners", as: api.operatorToken, json: json(["distributor_id": distributor.id.uuidString, "name": "Contoso"]))
            expectSuccess(result, 201)
            let id = try #require(result.json["id"]?.uuid)
            #expect(result.json["distributor_id"]?.uuid == distributor.id.uuid)
            #expect(result.json["retention_seconds"] == nil, "absent: the distributor's period applies")
            #expect(try await api.client.int("SELECT count(*) FROM partners WHERE id = $1 AND distributor_id = $2", [id, distributor.id]) == 1)

            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/partners", as: api.operatorToken, json: json(["distributor_id": UUID().uuidString, "name": "X"])),
                        404, "not_found")
            expectError(try await api.call(.post, "/v1/partners", as: api.operatorToken, json: #"{"name":"X"}"#),
                        422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func updatePartnerSetsItsOwnRetention() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let result = try await api.call(
                .patch, "/v1/partners/\(tenant.partner.id)", as: api.operatorToken, json: #"{"retention_seconds":120}"#)
            expectSuccess(result, 200)
            #expect(result.json["retention_seconds"]?.int == 120)
            #expect(try await api.client.int("SELECT retention_seconds FROM partners WHERE id = $1", [tenant.partner.id]) == 120)
            let before = try await api.snapshot()
            expectError(try await api.call(
                .patch, "/v1/partners/\(UUID())", as: api.operatorToken, json: #"{"retention_seconds":120}"#), 404, "not_found")
            expectError(try await api.call(
                .patch, "/v1/partners/\(tenant.partner.id)", as: api.operatorToken, json: #"{"retention_seconds":"soon"}"#),
                        422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func createCustomerAnswersTheCustomerWithZeroCounts() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let result = try await api.call(
                .post, "/v1/customers", as: api.operatorToken, json: json(["partner_id": tenant.partner.id.uuidString, "name": "Adatum"]))
            expectSuccess(result, 201)
            let id = try #require(result.json["id"]?.uuid)
            #expect(result.json["status"]?.string == "normal")
            #expect(result.json["partner_id"]?.uuid == tenant.partner.id.uuid)
            #expect(result.json["distributor_id"]?.uuid == tenant.distributor.id.uuid)
            #expect(result.json["resource_counts"]?["total"]?.int == 0)
            #expect(result.json["available_operations"]?.array == [])
            #expect(try await api.client.customerStatus(CustomerID(id)) == "normal")

            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers", as: api.operatorToken, json: json(["partner_id": UUID().uuidString, "name": "X"])),
                        404, "not_found")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func provisionOneResourceOrManyInOneCall() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let customer = tenant.customer.id
            let one = try await api.call(
                .post, "/v1/customers/\(customer)/resources", as: api.operatorToken,
                json: #"{"type":"evs.disk","billing_mode":"prepaid","expires_at":"2031-01-01T00:00:00Z","data_bytes":2048}"#)
            expectSuccess(one, 201)
            let id = try #require(one.json["id"]?.uuid)
            #expect(one.json["created"]?.int == 1)
            #expect(try await api.client.string("SELECT expires_at::date::text FROM resources WHERE id = $1", [id]) == "2031-01-01")
            #expect(try await api.client.int("SELECT size_bytes FROM resource_data WHERE resource_id = $1", [id]) == 2048)

            let many = try await api.call(
                .post, "/v1/customers/\(customer)/resources", as: api.operatorToken,
                json: #"{"type":"ecs.instance","billing_mode":"pay_per_use","count":250}"#)
            expectSuccess(many, 201)
            #expect(many.json["created"]?.int == 250)
            #expect(many.json["id"] == nil)
            #expect(try await api.client.int(
                "SELECT count(*) FROM resources WHERE customer_id = $1 AND billing_mode = 'pay_per_use'", [customer]) == 253)
        }
    }

    @Test(arguments: [
        #"{"type":"ecs","billing_mode":"pay_per_use","count":0}"#,
        #"{"type":"ecs","billing_mode":"pay_per_use","count":100001}"#,
        #"{"type":"ecs","billing_mode":"pay_per_use","expires_at":"2031-01-01T00:00:00Z"}"#,
        #"{"type":"ecs","billing_mode":"pay_per_use","data_bytes":-1}"#,
        #"{"type":"has space","billing_mode":"pay_per_use"}"#,
        #"{"type":"ecs","billing_mode":"monthly"}"#,
        #"{"type":"ecs","billing_mode":"prepaid","expires_at":"tomorrow"}"#,
        #"{"billing_mode":"prepaid"}"#,
    ])
    func provisionResourcesRefusesBadInput(_ body: String) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/resources", as: api.operatorToken, json: body), 422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func provisionResourcesRefusesUnknownAndFrozenCustomers() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            let before = try await api.snapshot()
            let body = #"{"type":"ecs","billing_mode":"pay_per_use"}"#
            expectError(try await api.call(.post, "/v1/customers/\(UUID())/resources", as: api.operatorToken, json: body),
                        404, "not_found")
            expectError(try await api.call(.post, "/v1/customers/\(tenant.customer.id)/resources", as: api.operatorToken, json: body),
                        409, "purchase_restricted")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func createAPIKeyReturnsAWorkingTokenStoredOnlyAsAHash() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let result = try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken,
                json: json(["principal_kind": "customer", "principal_id": tenant.customer.id.uuidString]))
            expectSuccess(result, 201)
            let token = try #require(result.json["token"]?.string)
            #expect(token.hasPrefix("pc_"))
            #expect(result.json["principal_kind"]?.string == "customer")
            #expect(token.hasPrefix(result.json["prefix"]?.string ?? "-"))
            // Stored only as a hash.
            #expect(try await api.client.int("SELECT count(*) FROM api_keys WHERE token_hash = sha256(convert_to($1, 'UTF8'))", [token]) == 1)
            let own = try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: token)
            expectSuccess(own, 200)
        }
    }

    @Test func createAPIKeyRefusals() async throws {
        try await withAPI { (api) async throws in
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken, json: json(["principal_kind": "partner", "principal_id": UUID().uuidString])),
                        404, "not_found")
            expectError(try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken, json: json(["principal_kind": "operator", "principal_id": api.operatorID.uuidString])),
                        422, "validation_failed")
            expectError(try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken, json: json(["principal_kind": "robot", "principal_id": UUID().uuidString])),
                        422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }
}
