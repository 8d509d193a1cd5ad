import Foundation
import HTTPTypes
import PartnerCore
import Testing

/// `Idempotency-Key`: a replay answers the first answer, byte for byte, without doing the
/// work again; the same key with another request is `idempotency_key_reused`.
@Suite("Idempotency-Key")
struct IdempotencyTests {
    static let keyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    func headers(_ key: String) -> HTTPFields { [Self.keyHeader: key] }

    @Test func aReplayedCreateAnswersTheSameAndCreatesOnce() async throws {
        try await withAPI { (api) async throws in
            let first = try await api.call(
                .post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"Once"}"#, headers: headers("create-once"))
            expectSuccess(first, 201)
            #expect(first.headers[Self.replayedHeader] == nil)
            let replay = try await api.call(
                .post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"Once"}"#, headers: headers("create-once"))
            #expect(replay.code == 201)
            #expect(replay.body == first.body)
            #expect(replay.headers[Self.replayedHeader] == "true")
            #expect(try await api.client.int("SELECT count(*) FROM distributors WHERE name = 'Once'") == 1)
            #expect(try await api.client.int("SELECT count(*) FROM audit_events WHERE action = 'distributor.created'") == 1)
        }
    }

    @Test func aReplayedFreezeFreezesOnce() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let path = "/v1/customers/\(tenant.customer.id)/freeze"
            let first = try await api.call(.post, path, as: tenant.partner.token, json: FreezeTests.accepted, headers: headers("f-1"))
            expectSuccess(first, 200)
            let afterFirst = try await api.snapshot()
            let replay = try await api.call(.post, path, as: tenant.partner.token, json: FreezeTests.accepted, headers: headers("f-1"))
            #expect(replay.code == 200, "not customer_already_restricted: the first answer again")
            #expect(replay.body == first.body)
            #expect(try await api.snapshot() == afterFirst)
            #expect(try await api.client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customer.id]) == 1)
            #expect(try await api.client.int(
                "SELECT count(*) FROM outbox_events WHERE customer_id = $1 AND type = 'customer.restricted'", [tenant.customer.id]) == 1)
        }
    }

    @Test func aReplayedOrderBuysOnce() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let path = "/v1/customers/\(tenant.customer.id)/orders"
            let first = try await api.call(.post, path, as: tenant.customer.token, json: Route.order.bodyTemplate, headers: headers("buy-1"))
            expectSuccess(first, 201)
            let replay = try await api.call(.post, path, as: tenant.customer.token, json: Route.order.bodyTemplate, headers: headers("buy-1"))
            #expect(replay.body == first.body)
            #expect(replay.json["order_id"] == first.json["order_id"])
            #expect(try await api.client.int("SELECT count(*) FROM orders WHERE customer_id = $1", [tenant.customer.id]) == 1)
        }
    }

    @Test func theSameKeyWithAnotherBodyOrPathIsRefused() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            expectSuccess(try await api.call(
                .post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"First"}"#, headers: headers("k")), 201)
            let before = try await api.snapshot()
            expectError(try await api.call(
                .post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"Second"}"#, headers: headers("k")),
                        422, "idempotency_key_reused")
            expectError(try await api.call(
                .patch, "/v1/partners/\(tenant.partner.id)", as: api.operatorToken, json: #"{"name":"First"}"#, headers: headers("k")),
                        422, "idempotency_key_reused")
            #expect(try await api.snapshot() == before)
            // Keys belong to their principal: another caller's "k" is its own.
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted,
                headers: headers("k")), 200)
        }
    }

    /// A refusal is an answer too: the replay repeats it even after the state changed.
    @Test func aRefusalIsReplayedAsItWas() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let path = "/v1/customers/\(tenant.customer.id)/unfreeze"
            let refused = try await api.call(.post, path, as: tenant.partner.token, json: #"{"reason":"r"}"#, headers: headers("u-1"))
            expectError(refused, 409, "customer_not_restricted")
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            let replay = try await api.call(.post, path, as: tenant.partner.token, json: #"{"reason":"r"}"#, headers: headers("u-1"))
            #expect(replay.code == 409)
            #expect(replay.body == refused.body)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "frozen")
        }
    }

    /// A replay while the first request with the key is still running waits for its answer,
    /// and gives up with 429 `rate_limited` (after ten seconds) rather than doing the work twice.
    @Test func aReplayWhileTheFirstIsStillRunningIsRateLimited() async throws {
        try await withAPI { (api) async throws in
            let body = #"{"name":"Slow"}"#
            // The claim a first request makes before its work, with no answer yet and its lease running.
            try await api.client.query("""
                INSERT INTO idempotency_keys (tenant_id, principal_kind, principal_id, key, request_hash, claim_token, lease_until)
                VALUES ($1, 'operator', $1, 'in-flight', sha256(convert_to($2, 'UTF8')), gen_random_uuid(), now() + interval '1 hour')
                """, [api.operatorID, "POST /v1/distributors\n" + body])
            let before = try await api.snapshot()
            let started = ContinuousClock.now
            expectError(try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: body, headers: headers("in-flight")),
                        429, "rate_limited")
            #expect(ContinuousClock.now - started >= .seconds(9), "it waited for the first answer")
            #expect(try await api.snapshot() == before)
        }
    }

    /// The server died mid-request (a claim without an answer whose lease ran out): the
    /// retry takes it over, does the work once and answers it.
    @Test func aClaimLeftByADeadServerIsTakenOver() async throws {
        try await withAPI { (api) async throws in
            let body = #"{"name":"After the crash"}"#
            try await api.client.query("""
                INSERT INTO idempotency_keys (tenant_id, principal_kind, principal_id, key, request_hash, claim_token, lease_until)
                VALUES ($1, 'operator', $1, 'crashed', sha256(convert_to($2, 'UTF8')), gen_random_uuid(), now() - interval '1 second')
                """, [api.operatorID, "POST /v1/distributors\n" + body])
            let retry = try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: body, headers: headers("crashed"))
            #expect(retry.code == 201)
            let replay = try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: body, headers: headers("crashed"))
            #expect(replay.code == 201)
            #expect(replay.body == retry.body)
            #expect(try await api.client.query("SELECT count(*) FROM distributors WHERE name = 'After the crash'").single().decode(0, as: Int.self) == 1)
        }
    }

    @Test(arguments: ["two words", String(repeating: "k", count: 256)])
    func malformedKeysAreRefused(_ key: String) async throws {
        try await withAPI { (api) async throws in
            let before = try await api.snapshot()
            expectError(try await api.call(.post, "/v1/distributors", as: api.operatorToken, json: #"{"name":"D"}"#, headers: headers(key)),
                        422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }
}
