import Foundation
import HTTPTypes
import PartnerCore
import Testing

/// DESIGN §9 over HTTP: retention policies and customer levels, the impact preview of a
/// freeze and what it must not change, scheduled lifts in the answers, and the lifecycle
/// fields of resources — each answer checked against the OpenAPI document.
@Suite("Resource lifecycle API")
struct LifecycleAPITests {
    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    static func expectDocumented(_ result: APIResult, _ method: String, _ template: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let document = try OpenAPIDocument.load()
        let schema = try #require(document.responseSchema(method, template, status: result.code), sourceLocation: sourceLocation)
        #expect(document.violations(of: result.json, against: schema) == [], sourceLocation: sourceLocation)
    }

    @Test func everyPrincipalReadsThePoliciesAndOnlyTheOperatorSetsThem() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let list = try await api.call(.get, "/v1/retention-policies", as: tenant.customer.token)
            expectSuccess(list, 200)
            #expect(list.json["items"]?.array?.compactMap { $0["level"]?.string } == ["v0", "v1", "v2", "v3", "v4", "v5"])
            try Self.expectDocumented(list, "GET", "/v1/retention-policies")
            let body = #"{"freeze_retention_seconds":7200,"prepaid_grace_seconds":600,"prepaid_retention_seconds":900}"#
            let before = try await api.snapshot()
            expectError(try await api.call(.put, "/v1/retention-policies/v3", as: tenant.partner.token, json: body), 403, "forbidden")
            expectError(try await api.call(.put, "/v1/retention-policies/v9", as: api.operatorToken, json: body), 404, "not_found")
            expectError(try await api.call(
                .put, "/v1/retention-policies/v3", as: api.operatorToken,
                json: #"{"freeze_retention_seconds":-1,"prepaid_grace_seconds":600,"prepaid_retention_seconds":900}"#), 422, "validation_failed")
            expectError(try await api.call(
                .put, "/v1/retention-policies/v3", as: api.operatorToken, json: #"{"freeze_retention_seconds":60}"#), 422, "validation_failed")
            #expect(try await api.snapshot() == before)
            let set = try await api.call(.put, "/v1/retention-policies/v3", as: api.operatorToken, json: body)
            expectSuccess(set, 200)
            #expect(set.json["prepaid_grace_seconds"]?.int == 600)
            try Self.expectDocumented(set, "PUT", "/v1/retention-policies/{level}")
            // The level picks the policy: a freeze of a v3 customer (its distributor set no
            // retention) is retained for the policy's two hours.
            let level = try await api.call(
                .patch, "/v1/customers/\(tenant.customer.id)", as: api.operatorToken, json: #"{"level":"v3"}"#)
            expectSuccess(level, 200)
            expectError(try await api.call(
                .patch, "/v1/customers/\(tenant.customer.id)", as: api.operatorToken, json: #"{"level":"gold"}"#), 422, "validation_failed")
            let seen = try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.partner.token)
            #expect(seen.json["level"]?.string == "v3")
            let frozen = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted)
            expectSuccess(frozen, 200)
            let until = try #require(frozen.json["retention_until"]?.string.flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(until.timeIntervalSinceNow - 7_200) < 60)
        }
    }

    /// The preview answers what a freeze would do and changes nothing — no restriction,
    /// audit or event, no verification code used, no idempotency record — even with an
    /// `Idempotency-Key` and the verification-code setting on.
    @Test func thePreviewAnswersAndLeavesTheDatabaseByteForByteUnchanged() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            // A prepaid resource expiring in a day (grace 15 days by default: it runs out
            // within the 15-day retention only with a shorter grace), one in a year.
            try await api.client.query("""
                UPDATE retention_policies SET prepaid_grace_seconds = 3600 WHERE level = 'v0'
                """)
            try await api.client.query(
                "UPDATE resources SET expires_at = now() + CASE WHEN id = $2 THEN interval '1 day' ELSE interval '1 year' END WHERE customer_id = $1 AND billing_mode = 'prepaid'",
                [tenant.customer.id, tenant.prepaidIDs[0]])
            try await api.client.query("UPDATE resource_data SET size_bytes = 1000 WHERE customer_id = $1", [tenant.customer.id])
            _ = try await api.call(.patch, "/v1/settings", as: tenant.partner.token, json: #"{"verification_code_required":true}"#)
            let code = try await api.call(.post, "/v1/verification-codes", as: tenant.partner.token, json: #"{"purpose":"freeze"}"#)
            expectSuccess(code, 202)
            let before = try await api.snapshot()
            let preview = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: #"{"dry_run":true}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "preview-1"])
            expectSuccess(preview, 200)
            #expect(preview.json["dry_run"]?.bool == true)
            #expect(preview.json["frozen_resources"]?.int == 3)
            #expect(preview.json["data_bytes_at_risk"]?.int == 3_000)
            #expect(preview.json["prepaid_expiring_total"]?.int == 1)
            #expect(preview.json["prepaid_expiring"]?.array?.first?["resource_id"]?.uuid == tenant.prepaidIDs[0].uuid)
            #expect(preview.json["retention_until"] != nil)
            try Self.expectDocumented(preview, "POST", "/v1/customers/{customer_id}/freeze")
            // A purchase restriction lifted in two hours: nothing frozen, nothing runs out.
            let short = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token,
                json: #"{"dry_run":true,"type":"purchase","lift_at":"\#(Self.iso(Date().addingTimeInterval(7_200)))"}"#)
            expectSuccess(short, 200)
            #expect(short.json["frozen_resources"]?.int == 0)
            #expect(short.json["prepaid_expiring_total"]?.int == 0)
            #expect(short.json["retention_until"] == nil)
            #expect(try await api.snapshot() == before)
            #expect(try await api.client.int("SELECT count(*) FROM idempotency_keys") == 0)
            #expect(try await api.client.int("SELECT count(*) FROM verification_codes WHERE consumed_at IS NULL AND failed_attempts = 0") == 1)
            // The same key then does the freeze (it was not used up by the preview).
            let frozen = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token,
                json: #"{"reason":"Budget","agreement_accepted":true,"verification_code":"\#(try #require(code.json["code"]?.string))"}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "preview-1"])
            expectSuccess(frozen, 200)
            // A preview of a restricted customer says so; a preview is the holder's only.
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: #"{"dry_run":true}"#), 409,
                "customer_already_restricted")
            let other = try await api.world.tenant(partnerHoldsGrant: true)
            expectError(try await api.call(
                .post, "/v1/customers/\(other.customer.id)/freeze", as: other.distributor.token, json: #"{"dry_run":true}"#), 403,
                "permission_held_by_partner")
            expectError(try await api.call(
                .post, "/v1/customers/\(other.customer.id)/freeze", as: tenant.partner.token, json: #"{"dry_run":true}"#), 404, "not_found")
        }
    }

    /// `dry_run` is refused where there is no preview, rather than ignored: a client asking
    /// for one must never get the change.
    @Test func dryRunElsewhereIsRefusedAndChangesNothing() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/freeze", as: tenant.partner.token,
                json: #"{"customer_ids":["\#(tenant.customer.id)"],"reason":"r","agreement_accepted":true,"dry_run":true}"#), 422,
                "validation_failed")
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token,
                json: #"{"reason":"r","agreement_accepted":true,"lift_at":"\#(Self.iso(Date().addingTimeInterval(-60)))"}"#), 422,
                "validation_failed")
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token,
                json: #"{"dry_run":true,"lift_at":"\#(Self.iso(Date().addingTimeInterval(400 * 86_400)))"}"#), 422, "validation_failed")
            #expect(try await api.snapshot() == before)
            let frozen = try await api.call(.post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted)
            expectSuccess(frozen, 200)
            let restricted = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token, json: #"{"reason":"r","dry_run":true}"#),
                422, "validation_failed")
            #expect(try await api.snapshot() == restricted)
        }
    }

    /// A scheduled lift shows in the customer's answers; expired and frozen-for-expiry
    /// prepaid resources show their state, reason and grace in the documented shape.
    @Test func answersShowTheScheduledLiftAndTheLifecycle() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let liftAt = Self.iso(Date().addingTimeInterval(86_400))
            let frozen = try await api.call(
                .post, "/v1/customers/freeze", as: tenant.partner.token,
                json: #"{"customer_ids":["\#(tenant.customer.id)"],"type":"purchase","reason":"Budget","lift_at":"\#(liftAt)"}"#)
            expectSuccess(frozen, 200)
            let listed = try await api.call(.get, "/v1/customers", as: tenant.partner.token)
            let row = try #require(listed.json["items"]?.array?.first { $0["id"]?.uuid == tenant.customer.id.uuid })
            #expect(row["active_restriction"]?["lift_at"]?.string.flatMap { try? Date($0, strategy: .iso8601) } != nil)
            try Self.expectDocumented(listed, "GET", "/v1/customers")
            try await api.client.query("UPDATE retention_policies SET prepaid_grace_seconds = 3600")
            try await api.client.query(
                "UPDATE resources SET expires_at = now() - CASE WHEN id = $2 THEN interval '1 minute' ELSE interval '2 hours' END WHERE customer_id = $1 AND billing_mode = 'prepaid'",
                [tenant.customer.id, tenant.prepaidIDs[0]])
            _ = try await RetentionSweep(client: api.client).run(.init(warningWindow: 0))
            let resources = try await api.call(.get, "/v1/customers/\(tenant.customer.id)/resources", as: tenant.customer.token)
            expectSuccess(resources, 200)
            try Self.expectDocumented(resources, "GET", "/v1/customers/{customer_id}/resources")
            let prepaid = try #require(resources.json["items"]?.array?.filter { $0["billing_mode"]?.string == "prepaid" })
            let byID = Dictionary(uniqueKeysWithValues: prepaid.compactMap { item in item["id"]?.uuid.map { ($0, item) } })
            let expired = try #require(byID[tenant.prepaidIDs[0].uuid])
            let frozenForExpiry = try #require(byID[tenant.prepaidIDs[1].uuid])
            #expect(expired["state"]?.string == "expired")
            #expect(expired["grace_until"]?.string != nil && expired["frozen_reason"] == nil)
            #expect(frozenForExpiry["state"]?.string == "frozen")
            #expect(frozenForExpiry["frozen_reason"]?.string == "expired")
            let detail = try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.partner.token)
            #expect(detail.json["resource_counts"]?["prepaid"]?["expired"]?.int == 1)
            #expect(detail.json["resource_counts"]?["prepaid"]?["frozen"]?.int == 1)
            try Self.expectDocumented(detail, "GET", "/v1/customers/{customer_id}")
            // Usage in grace is accepted; of the frozen one refused (423).
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/resources/\(tenant.prepaidIDs[0])/usage", as: tenant.customer.token,
                json: #"{"quantity":1}"#), 202)
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/resources/\(tenant.prepaidIDs[1])/usage", as: tenant.customer.token,
                json: #"{"quantity":1}"#), 423, "resource_frozen")
        }
    }
}
