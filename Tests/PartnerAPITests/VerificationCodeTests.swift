import Foundation
import PartnerCore
import Testing

/// The verification-code flow over HTTP: the caller turns its setting on, asks for a code
/// (returned in the answer with `response` delivery), freezes with it, and cannot reuse it.
@Suite("Verification codes")
struct VerificationCodeTests {
    static let accepted = FreezeTests.accepted

    func turnOn(_ api: API, _ token: String) async throws {
        let result = try await api.call(.patch, "/v1/settings", as: token, json: #"{"verification_code_required":true}"#)
        expectSuccess(result, 200)
        #expect(result.json["verification_code_required"]?.bool == true)
    }

    func issue(_ api: API, _ token: String, _ purpose: String = "freeze") async throws -> String {
        let result = try await api.call(.post, "/v1/verification-codes", as: token, json: #"{"purpose":"\#(purpose)"}"#)
        expectSuccess(result, 202)
        return try #require(result.json["code"]?.string)
    }

    func freezeBody(_ code: String?) -> String {
        var body: [String: Any] = ["reason": "Budget", "agreement_accepted": true]
        if let code { body["verification_code"] = code }
        return json(body)
    }

    @Test func settingsAreReadAndChangedByTheCaller() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let initial = try await api.call(.get, "/v1/settings", as: tenant.partner.token)
            expectSuccess(initial, 200)
            #expect(initial.json["verification_code_required"]?.bool == false)
            try await turnOn(api, tenant.partner.token)
            #expect(try await api.call(.get, "/v1/settings", as: tenant.partner.token).json["verification_code_required"]?.bool == true)
            #expect(try await api.client.string(
                "SELECT verification_code_required::text FROM partners WHERE id = $1", [tenant.partner.id]) == "true")
            // Only the caller's own setting changed.
            #expect(try await api.client.string(
                "SELECT verification_code_required::text FROM distributors WHERE id = $1", [tenant.distributor.id]) == "false")
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE action = 'settings.updated' AND actor_id = $1", [tenant.partner.id]) == 1)

            let before = try await api.snapshot()
            for body in ["{}", #"{"verification_code_required":"yes"}"#, #"{"verification_code_required":null}"#, "[]"] {
                expectError(try await api.call(.patch, "/v1/settings", as: tenant.partner.token, json: body), 422, "validation_failed")
            }
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func freezeWithAnIssuedCodeThenTheCodeIsSpent() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let second = try await api.world.customer(of: tenant)
            try await turnOn(api, tenant.partner.token)
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: freezeBody(nil)),
                        422, "verification_code_required")
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: freezeBody("123456")),
                        422, "verification_code_invalid")
            #expect(try await api.snapshot() == before)

            let issued = try await api.call(.post, "/v1/verification-codes", as: tenant.partner.token, json: #"{"purpose":"freeze"}"#)
            expectSuccess(issued, 202)
            let code = try #require(issued.json["code"]?.string)
            #expect(code.count == 6 && code.allSatisfy(\.isNumber))
            #expect(issued.json["id"]?.uuid != nil)
            let expiresAt = try #require(issued.json["expires_at"]?.string)
            let expiry = try Date(expiresAt, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
            #expect(abs(expiry.timeIntervalSinceNow - 300) < 60, "valid five minutes")
            #expect(try await api.client.int(
                "SELECT count(*) FROM verification_codes WHERE principal_id = $1 AND position(convert_to($2, 'UTF8') in code_hash) = 0",
                [tenant.partner.id, code]) == 1, "stored hashed")

            let frozen = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: freezeBody(code))
            expectSuccess(frozen, 200)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "frozen")

            let afterFreeze = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/customers/\(second.customerID)/freeze", as: tenant.partner.token, json: freezeBody(code)),
                        422, "verification_code_invalid")
            #expect(try await api.snapshot() == afterFreeze)
            #expect(try await api.client.customerStatus(second.customerID) == "normal")
        }
    }

    @Test func aNewCodeIsRateLimitedForAFewSeconds() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            _ = try await issue(api, tenant.partner.token)
            expectError(try await api.call(.post, "/v1/verification-codes", as: tenant.partner.token, json: #"{"purpose":"freeze"}"#),
                        429, "rate_limited")
            // Another purpose is its own code.
            _ = try await issue(api, tenant.partner.token, "unfreeze")
        }
    }

    @Test func fiveWrongCodesLockTheCode() async throws {
        try await withAPI(codeResendInterval: 0) { (api) async throws in
            let tenant = try await api.world.tenant()
            try await turnOn(api, tenant.partner.token)
            let code = try await issue(api, tenant.partner.token)
            let wrong = code == "000000" ? "111111" : "000000"
            let before = try await api.snapshot()
            for _ in 0..<5 {
                expectError(try await api.call(
                    .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: freezeBody(wrong)),
                            422, "verification_code_invalid")
            }
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: freezeBody(code)),
                        429, "verification_code_locked")
            #expect(try await api.snapshot() == before)
            // A new code unlocks.
            let fresh = try await issue(api, tenant.partner.token)
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: freezeBody(fresh)), 200)
        }
    }

    @Test func aCodeIsForItsPurposeAndUnfreezeNeedsOneToo() async throws {
        try await withAPI(codeResendInterval: 0) { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: false)
            try await turnOn(api, tenant.distributor.token)
            let unfreezeCode = try await issue(api, tenant.distributor.token, "unfreeze")
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.distributor.token, json: freezeBody(unfreezeCode)),
                        422, "verification_code_invalid")
            let freezeCode = try await issue(api, tenant.distributor.token)
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.distributor.token, json: freezeBody(freezeCode)), 200)
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.distributor.token, json: #"{"reason":"ok"}"#),
                        422, "verification_code_required")
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.distributor.token,
                json: json(["reason": "ok", "verification_code": unfreezeCode])), 200)
        }
    }

    @Test func aBatchSpendsOneCode() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let second = try await api.world.customer(of: tenant)
            try await turnOn(api, tenant.partner.token)
            let before = try await api.snapshot()
            let ids = [tenant.customer.id.uuidString, second.customerID.uuidString]
            expectError(try await api.call(
                .post, "/v1/customers/freeze", as: tenant.partner.token,
                json: json(["customer_ids": ids, "reason": "Budget", "agreement_accepted": true])), 422, "verification_code_required")
            #expect(try await api.snapshot() == before)
            let code = try await issue(api, tenant.partner.token)
            let result = try await api.call(
                .post, "/v1/customers/freeze", as: tenant.partner.token,
                json: json(["customer_ids": ids, "reason": "Budget", "agreement_accepted": true, "verification_code": code]))
            expectSuccess(result, 200)
            #expect(result.json["results"]?.array?.allSatisfy { $0["outcome"]?.string == "succeeded" } == true)
        }
    }

    @Test func badCodeRequests() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            for body in ["{}", #"{"purpose":"delete"}"#, #"{"purpose":1}"#] {
                expectError(try await api.call(.post, "/v1/verification-codes", as: tenant.partner.token, json: body), 422, "validation_failed")
            }
            #expect(try await api.client.int("SELECT count(*) FROM verification_codes") == 0)
        }
    }
}
