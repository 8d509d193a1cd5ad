import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Idempotency": a replay with the same key and body returns the first answer
/// without doing the work again; the same key with another body is `idempotency_key_reused`.
@Suite("Idempotency keys", .serialized)
struct IdempotencyTests {
    /// Stands in for the HTTP layer's digest of the request body.
    static func hash(_ body: String) -> Data { Data("body:\(body)".utf8) }

    /// What the HTTP layer does around a freeze: claim, work, store the answer — and on a
    /// replay, send the stored answer and run nothing.
    static func freezeOnce(
        _ world: World, _ tenant: Tenant, key: String, body: String
    ) async throws -> (status: Int, body: String) {
        let idempotency = world.services.idempotency
        switch try await idempotency.claim(tenant.partner, key: key, requestHash: hash(body)) {
        case .replay(let status, let stored):
            return (status, stored)
        case .proceed:
            let result = try await world.freeze(tenant, reason: body)
            let answer = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
            try await idempotency.complete(tenant.partner, key: key, status: 200, body: answer)
            return (200, answer)
        }
    }

    @Test func aReplayReturnsTheStoredAnswerWithoutFreezingAgain() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let first = try await Self.freezeOnce(world, tenant, key: "key-1", body: "unpaid")
            let afterFirst = try await DatabaseState.capture(client)
            let replay = try await Self.freezeOnce(world, tenant, key: "key-1", body: "unpaid")
            #expect(replay.status == first.status)
            #expect(replay.body == first.body)
            // Nothing ran: no second restriction, audit event, or customer_already_restricted.
            #expect(try await DatabaseState.capture(client) == afterFirst)
            #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == 1)
            let stored = try await client.query(
                "SELECT status_code, response_body FROM idempotency_keys WHERE principal_id = $1 AND key = 'key-1'",
                [tenant.partnerID]).single()
            #expect(try stored.decode(0, as: Int.self) == 200)
            #expect(try stored.decode(1, as: String.self) == first.body)
        }
    }

    @Test func theSameKeyWithAnotherBodyIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await Self.freezeOnce(world, tenant, key: "key-1", body: "unpaid")
            try await expectRefusal(.idempotencyKeyReused, client) {
                try await Self.freezeOnce(world, tenant, key: "key-1", body: "something else")
            }
        }
    }

    /// Keys belong to the principal that sent them.
    @Test func keysAreScopedToTheirPrincipal() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let other = try await world.tenant()
            _ = try await Self.freezeOnce(world, tenant, key: "shared", body: "unpaid")
            _ = try await Self.freezeOnce(world, other, key: "shared", body: "other body")
            #expect(try await client.status(of: other) == "frozen")
            #expect(try await client.int("SELECT count(*) FROM idempotency_keys WHERE key = 'shared'") == 2)
        }
    }

    /// Two concurrent requests with one key: the second waits for the first's answer.
    @Test func aConcurrentDuplicateWaitsForTheFirstAnswer() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let idempotency = world.services.idempotency
            #expect(try await idempotency.claim(tenant.partner, key: "k", requestHash: Self.hash("b")) == .proceed)
            async let second = idempotency.claim(tenant.partner, key: "k", requestHash: Self.hash("b"))
            try await Task.sleep(for: .milliseconds(150))
            try await idempotency.complete(tenant.partner, key: "k", status: 201, body: "{\"id\":1}")
            #expect(try await second == .replay(status: 201, body: "{\"id\":1}"))
        }
    }

    @Test func aRequestStillInProgressIsRateLimitedAfterTheWaitLimit() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let idempotency = Idempotency(client: client, waitLimit: .milliseconds(200))
            #expect(try await idempotency.claim(tenant.partner, key: "k", requestHash: Self.hash("b")) == .proceed)
            try await expectRefusal(.rateLimited, client) {
                try await idempotency.claim(tenant.partner, key: "k", requestHash: Self.hash("b"))
            }
            // Released (the first request failed in a retryable way), the key may be used again.
            try await idempotency.release(tenant.partner, key: "k")
            #expect(try await client.int("SELECT count(*) FROM idempotency_keys") == 0)
            #expect(try await idempotency.claim(tenant.partner, key: "k", requestHash: Self.hash("b")) == .proceed)
        }
    }

    static let badKeys = ["", "has space", "naïve", String(repeating: "k", count: 256)]

    @Test(arguments: badKeys)
    func aMalformedKeyIsAValidationFailure(key: String) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            try await expectRefusal(.validationFailed, client) {
                try await world.services.idempotency.claim(tenant.partner, key: key, requestHash: Self.hash("b"))
            }
        }
    }
}
