import Crypto
import Foundation
import HTTPTypes
import PartnerCore
import Testing

/// Issue 14 over HTTP: stolen keys (revocation, expiry, suspension), the verification
/// setting, code issuing caps and storage, rate limits, bounded input, and the headers every
/// answer carries.
@Suite("Hardening")
struct HardeningTests {
    // MARK: Keys

    @Test func aKeyIsRevokedByItsOwnPrincipalAndStopsAtOnce() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let created = try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken,
                json: json(["principal_kind": "partner", "principal_id": tenant.partner.id.uuidString]))
            expectSuccess(created, 201)
            let keyID = try #require(created.json["id"]?.string)
            let token = try #require(created.json["token"]?.string)
            expectSuccess(try await api.call(.get, "/v1/customers", as: token), 200)
            // Another tenant's principal cannot revoke it (and cannot tell it exists).
            let other = try await api.world.tenant()
            expectError(try await api.call(.delete, "/v1/api-keys/\(keyID)", as: other.partner.token), 404, "not_found")
            let revoked = try await api.call(.delete, "/v1/api-keys/\(keyID)", as: token)
            expectSuccess(revoked, 200)
            #expect(revoked.json["id"]?.string == keyID)
            expectError(try await api.call(.get, "/v1/customers", as: token), 401, "unauthenticated")
            #expect(try await api.client.int(
                "SELECT count(*) FROM audit_events WHERE action = 'api_key.revoked' AND target_id = $1", [UUID(uuidString: keyID)]) == 1)
            // Revoking twice: there is no active key of that id any more.
            expectError(try await api.call(.delete, "/v1/api-keys/\(keyID)", as: api.operatorToken), 404, "not_found")
        }
    }

    @Test func theOperatorRevokesAnyKey() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let keyID = try #require(try await api.services.apiKeys.authenticate(digest: APIKeys.digest(tenant.customer.token))?.keyID)
            expectSuccess(try await api.call(.delete, "/v1/api-keys/\(keyID)", as: api.operatorToken), 200)
            expectError(try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.customer.token), 401, "unauthenticated")
        }
    }

    @Test func anExpiredKeyAuthenticatesNothing() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let past = try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken,
                json: json(["principal_kind": "customer", "principal_id": tenant.customer.id.uuidString, "expires_at": "2020-01-01T00:00:00Z"]))
            expectError(past, 422, "validation_failed")
            let created = try await api.call(
                .post, "/v1/api-keys", as: api.operatorToken,
                json: json(["principal_kind": "customer", "principal_id": tenant.customer.id.uuidString, "expires_at": "2099-01-01T00:00:00Z"]))
            expectSuccess(created, 201)
            #expect(created.json["expires_at"]?.string?.hasPrefix("2099-01-01T00:00:00") == true)
            let token = try #require(created.json["token"]?.string)
            // Its expiry passes before this server ever saw it.
            try await api.client.query(
                "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [UUID(uuidString: created.json["id"]?.string ?? "")])
            expectError(try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: token), 401, "unauthenticated")
        }
    }

    /// A suspended partner (or a partner under a suspended distributor) reads, and every
    /// mutating call answers 403 `actor_suspended`.
    @Test func aSuspendedActorChangesNothing() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let underSuspendedDistributor = try await api.world.tenant()
            _ = try await api.services.provisioning.updatePartner(
                id: tenant.partner.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            _ = try await api.services.provisioning.updateDistributor(
                id: underSuspendedDistributor.distributor.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            let before = try await api.snapshot()
            for token in [tenant.partner.token, underSuspendedDistributor.partner.token, underSuspendedDistributor.distributor.token] {
                expectSuccess(try await api.call(.get, "/v1/customers", as: token), 200)
                expectError(try await api.call(.patch, "/v1/settings", as: token, json: #"{"verification_code_required":true}"#),
                            403, "actor_suspended")
                expectError(try await api.call(.post, "/v1/verification-codes", as: token, json: #"{"purpose":"freeze"}"#),
                            403, "actor_suspended")
            }
            #expect(try await api.snapshot() == before)
            #expect(try await api.client.int("SELECT count(*) FROM verification_codes") == 0)
        }
    }

    @Test func malformedTokensAreRefusedWithoutALookup() async throws {
        try await withAPI { (api) async throws in
            for token in ["pc_" + String(repeating: "x", count: 60_000), "pc_short", "pc_" + String(repeating: "*", count: 43)] {
                expectError(try await api.call(.get, "/v1/customers", as: token), 401, "unauthenticated")
            }
            #expect(APIKeys.isWellFormed("pc_" + String(repeating: "A", count: 43)))
            #expect(!APIKeys.isWellFormed("pc_" + String(repeating: "A", count: 44)))
            #expect(!APIKeys.isWellFormed("pc_" + String(repeating: "é", count: 43)))
        }
    }

    /// A well-formed key nobody was given.
    static func unknownToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return "pc_" + String((0..<43).map { _ in alphabet.randomElement()! })
    }

    /// Guessing keys costs a lookup each, so unknown keys are limited per client address: past
    /// the burst (ten times the rate) the address gets 429 without a lookup, while a key that
    /// authenticated before goes on working.
    @Test func unknownKeysFromOneAddressAreLimited() async throws {
        try await withAPI(unknownKeysPerSecond: 1) { (api) async throws in
            let tenant = try await api.world.tenant()
            expectSuccess(try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.customer.token), 200)
            var answers: [Int] = []
            for _ in 0..<12 {
                answers.append(try await api.call(.get, "/v1/customers", as: Self.unknownToken()).code)
            }
            #expect(answers.prefix(10).allSatisfy { $0 == 401 }, "a burst of ten unknown keys is answered 401")
            let limited = try await api.call(.get, "/v1/customers", as: Self.unknownToken())
            expectError(limited, 429, "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            expectSuccess(try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.customer.token), 200)
        }
    }

    /// A new key's token is shown once: a replay of its creation names the key but not the
    /// token, which is stored nowhere, not even in the idempotency record.
    @Test func aReplayedKeyCreationDoesNotShowTheTokenAgain() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let body = #"{"principal_kind":"partner","principal_id":"\#(tenant.partner.id)"}"#
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "new-key-1"]
            let first = try await api.call(.post, "/v1/api-keys", as: api.operatorToken, json: body, headers: headers)
            expectSuccess(first, 201)
            let token = try #require(first.json["token"]?.string)
            let replay = try await api.call(.post, "/v1/api-keys", as: api.operatorToken, json: body, headers: headers)
            #expect(replay.code == 201)
            #expect(replay.json["id"] == first.json["id"])
            #expect(replay.json["prefix"] == first.json["prefix"])
            #expect(replay.json["token"] == nil)
            #expect(try await api.client.int("SELECT count(*) FROM idempotency_keys WHERE response_body LIKE '%' || $1 || '%'", [token]) == 0)
            #expect(try await api.client.int(
                "SELECT count(*) FROM api_keys WHERE id = $1", [UUID(uuidString: try #require(first.json["id"]?.string))]) == 1)
            expectSuccess(try await api.call(.get, "/v1/customers", as: token), 200)
        }
    }

    // MARK: Verification codes

    @Test func turningCodesOffTakesASettingsCode() async throws {
        try await withAPI(codeResendInterval: 0) { (api) async throws in
            let tenant = try await api.world.tenant()
            let token = tenant.partner.token
            expectSuccess(try await api.call(.patch, "/v1/settings", as: token, json: #"{"verification_code_required":true}"#), 200)
            let off = #"{"verification_code_required":false}"#
            expectError(try await api.call(.patch, "/v1/settings", as: token, json: off), 422, "verification_code_required")
            let freezeCode = try #require(try await api.call(
                .post, "/v1/verification-codes", as: token, json: #"{"purpose":"freeze"}"#).json["code"]?.string)
            expectError(try await api.call(.patch, "/v1/settings", as: token,
                                           json: json(["verification_code_required": false, "verification_code": freezeCode])),
                        422, "verification_code_invalid")
            #expect(try await api.client.string("SELECT verification_code_required::text FROM partners WHERE id = $1", [tenant.partner.id]) == "true")
            let settingsCode = try #require(try await api.call(
                .post, "/v1/verification-codes", as: token, json: #"{"purpose":"settings"}"#).json["code"]?.string)
            let turnedOff = try await api.call(.patch, "/v1/settings", as: token,
                                               json: json(["verification_code_required": false, "verification_code": settingsCode]))
            expectSuccess(turnedOff, 200)
            #expect(turnedOff.json["verification_code_required"]?.bool == false)
            // Turning it on again needs nothing.
            expectSuccess(try await api.call(.patch, "/v1/settings", as: token, json: #"{"verification_code_required":true}"#), 200)
        }
    }

    @Test func codesAreCappedPerHourAndStoredUnderTheServerKey() async throws {
        try await withAPI(codeResendInterval: 0) { (api) async throws in
            let tenant = try await api.world.tenant()
            var last: (id: String, code: String)? = nil
            for _ in 0..<10 {
                let issued = try await api.call(.post, "/v1/verification-codes", as: tenant.partner.token, json: #"{"purpose":"freeze"}"#)
                expectSuccess(issued, 202)
                last = (try #require(issued.json["id"]?.string), try #require(issued.json["code"]?.string))
            }
            let capped = try await api.call(.post, "/v1/verification-codes", as: tenant.partner.token, json: #"{"purpose":"unfreeze"}"#)
            expectError(capped, 429, "rate_limited")
            // The stored hash is not SHA-256 of what sits beside it: without the key, the table
            // gives no code away.
            let (id, code) = try #require(last)
            let stored: Data = try await api.client.query(
                "SELECT code_hash FROM verification_codes WHERE principal_id = $1 AND purpose = 'freeze'", [tenant.partner.id]
            ).single().decode(0)
            #expect(stored != Data(SHA256.hash(data: Data("\(id):\(code)".utf8))))
            #expect(stored.count == 32)
        }
    }

    // MARK: Rate limits

    @Test func aKeyOverItsLimitGets429WhileAnotherKeyIsServed() async throws {
        try await withAPI(rateLimitPerSecond: 2) { (api) async throws in
            let tenant = try await api.world.tenant()
            let other = try await api.world.tenant()
            var limited: APIResult? = nil
            for _ in 0..<10 {
                let result = try await api.call(.get, "/v1/customers/\(tenant.customer.id)", as: tenant.customer.token)
                if result.code == 429 {
                    limited = result
                    break
                }
            }
            let refused = try #require(limited, "ten requests at once must exceed a burst of 4")
            expectError(refused, 429, "rate_limited")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            expectSuccess(try await api.call(.get, "/v1/customers/\(other.customer.id)", as: other.customer.token), 200)
        }
    }

    // MARK: Input bounds and answers

    @Test func aRenewalPastTheYear9999IsRefused() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let provisioned = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/resources", as: api.operatorToken,
                json: #"{"type":"rds.instance","billing_mode":"prepaid","expires_at":"9999-12-31T00:00:00Z"}"#)
            expectSuccess(provisioned, 201)
            let resourceID = try #require(provisioned.json["id"]?.string)
            let before = try await api.snapshot()
            let renewed = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token,
                json: json(["action": "renew", "resource_id": resourceID, "term_months": 1]))
            expectError(renewed, 422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func aSpecLargerThan16KiBIsRefused() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let before = try await api.snapshot()
            let big = json(["action": "buy", "resource": ["type": "vm", "billing_mode": "pay_per_use",
                                                          "spec": ["blob": String(repeating: "x", count: 17_000)]]])
            expectError(try await api.call(.post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token, json: big),
                        422, "validation_failed")
            #expect(try await api.snapshot() == before)
            let small = json(["action": "buy", "resource": ["type": "vm", "billing_mode": "pay_per_use",
                                                            "spec": ["blob": String(repeating: "x", count: 15_000)]]])
            expectSuccess(try await api.call(.post, "/v1/customers/\(tenant.customer.id)/orders", as: tenant.customer.token, json: small), 201)
        }
    }

    @Test func answersAreNeitherCachedNorSniffed() async throws {
        try await withAPI { (api) async throws in
            for result in [
                try await api.call(.get, "/v1/agreement", as: api.operatorToken),
                try await api.call(.get, "/v1/customers"),
                try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"D"}"#),
            ] {
                #expect(result.headers[.cacheControl] == "no-store", "\(result)")
                #expect(result.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(result)")
            }
        }
    }
}
