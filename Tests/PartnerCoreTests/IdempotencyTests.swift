import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §3 invariant 9: a request with an `Idempotency-Key` does its work at most once,
/// and a retry always gets the work's answer, even when the server died mid-request: the
/// answer commits in the work's own transaction.
@Suite("Idempotency keys", .serialized)
struct IdempotencyTests {
    /// Stands in for the HTTP layer's digest of the request body.
    static func hash(_ body: String) -> Data { Data("body:\(body)".utf8) }

    /// Stands in for the HTTP layer's encoder: the status and JSON of an answer.
    static let render: @Sendable (any Encodable & Sendable) throws -> StoredAnswer = { value in
        StoredAnswer(status: 200, body: String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
    }

    static func claim(
        _ idempotency: Idempotency, _ tenant: Tenant, key: String, body: String
    ) async throws -> Idempotency.Claim {
        try await idempotency.claim(
            tenant.partner.principal, tenantID: tenant.customerID.uuid, key: key, requestHash: hash(body), render: render)
    }

    /// What the HTTP layer does around a freeze: claim, work (which stores the answer), or
    /// send the stored answer and run nothing.
    static func freezeOnce(
        _ world: World, _ tenant: Tenant, key: String, body: String, idempotency: Idempotency? = nil
    ) async throws -> StoredAnswer {
        switch try await claim(idempotency ?? world.services.idempotency, tenant, key: key, body: body) {
        case .replay(let stored):
            return stored
        case .proceed(let claim):
            var context = tenant.partner.context
            context.idempotency = claim
            _ = try await world.services.restrictions.freeze(
                customerID: tenant.customerID,
                FreezeRequest(type: .purchaseAndResources, reason: body, agreementAccepted: true, verificationCode: nil),
                context: context)
            return try #require(claim.recordedAnswer)
        }
    }

    @Test func theAnswerCommitsWithTheWorkAndIsReplayed() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let first = try await Self.freezeOnce(world, tenant, key: "key-1", body: "unpaid")
            let stored = try await client.query(
                "SELECT status_code, response_body, tenant_id FROM idempotency_keys WHERE principal_id = $1 AND key = 'key-1'",
                [tenant.partnerID]).single()
            #expect(try stored.decode(0, as: Int.self) == 200)
            #expect(try stored.decode(1, as: String.self) == first.body)
            #expect(try stored.decode(2, as: CustomerID.self) == tenant.customerID)
            let afterFirst = try await DatabaseState.capture(client)
            let replay = try await Self.freezeOnce(world, tenant, key: "key-1", body: "unpaid")
            #expect(replay == first)
            // Nothing ran: no second restriction, audit event, or customer_already_restricted.
            #expect(try await DatabaseState.capture(client) == afterFirst)
            #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == 1)
        }
    }

    /// The work failed (here: a rule refused it), so its transaction rolled back, answer and
    /// all: the claim is still open and the refusal is stored afterwards.
    @Test func aRefusalIsStoredAfterTheRollback() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant)
            guard case .proceed(let claim) = try await Self.claim(world.services.idempotency, tenant, key: "k", body: "b") else {
                Issue.record("a new key must be claimed")
                return
            }
            var context = tenant.partner.context
            context.idempotency = claim
            await #expect(throws: PartnerError.self) {
                try await world.services.restrictions.freeze(
                    customerID: tenant.customerID,
                    FreezeRequest(type: .purchase, reason: "again", agreementAccepted: false, verificationCode: nil),
                    context: context)
            }
            #expect(claim.recordedAnswer == nil)
            let refusal = StoredAnswer(status: 409, body: "{\"error\":{}}")
            #expect(try await claim.complete(refusal) == refusal)
            guard case .replay(let replayed) = try await Self.claim(world.services.idempotency, tenant, key: "k", body: "b") else {
                Issue.record("the refusal must be replayed")
                return
            }
            #expect(replayed == refusal)
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
            guard case .proceed(let claim) = try await Self.claim(idempotency, tenant, key: "k", body: "b") else {
                Issue.record("a new key must be claimed")
                return
            }
            async let second = Self.claim(idempotency, tenant, key: "k", body: "b")
            try await Task.sleep(for: .milliseconds(150))
            let answer = StoredAnswer(status: 201, body: "{\"id\":1}")
            _ = try await claim.complete(answer)
            guard case .replay(let replayed) = try await second else {
                Issue.record("the second request must get the first one's answer")
                return
            }
            #expect(replayed == answer)
        }
    }

    /// The server died after claiming and before its work committed: once the lease has
    /// run out the retry takes the claim over and does the work, and should the first request
    /// still be running, its answer is refused and its work rolls back.
    @Test func aDeadClaimIsTakenOverAndTheLateWorkRollsBack() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let idempotency = Idempotency(client: client, waitLimit: .seconds(5), leaseSeconds: 0.3)
            guard case .proceed(let dead) = try await Self.claim(idempotency, tenant, key: "k", body: "unpaid") else {
                Issue.record("a new key must be claimed")
                return
            }
            let answer = try await Self.freezeOnce(world, tenant, key: "k", body: "unpaid", idempotency: idempotency)
            #expect(answer.status == 200)
            #expect(try await client.status(of: tenant) == "frozen")
            // The first request wakes up and tries to unfreeze under its stale claim: refused,
            // rolled back.
            var context = tenant.partner.context
            context.idempotency = dead
            try await expectRefusal(.rateLimited, client) {
                try await world.services.restrictions.unfreeze(
                    customerID: tenant.customerID, UnfreezeRequest(type: nil, reason: "late", verificationCode: nil),
                    context: context)
            }
            #expect(try await client.status(of: tenant) == "frozen")
            #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == 1)
        }
    }

    @Test func aRequestStillInProgressIsRateLimitedAfterTheWaitLimit() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let idempotency = Idempotency(client: client, waitLimit: .milliseconds(200), leaseSeconds: 60)
            guard case .proceed(let claim) = try await Self.claim(idempotency, tenant, key: "k", body: "b") else {
                Issue.record("a new key must be claimed")
                return
            }
            try await expectRefusal(.rateLimited, client) {
                try await Self.claim(idempotency, tenant, key: "k", body: "b")
            }
            // Released (the first request failed in a retryable way), the key may be used again
            // at once, for the same request: the record stays with its lease ended.
            #expect(try await claim.release() == nil)
            #expect(try await client.int("SELECT count(*) FROM idempotency_keys WHERE lease_until = '-infinity'") == 1)
            guard case .proceed = try await Self.claim(idempotency, tenant, key: "k", body: "b") else {
                Issue.record("a released key must be claimable")
                return
            }
        }
    }

    /// One customer of a batch committed before the server died: the retried batch replays
    /// that customer's outcome and does only the others.
    @Test func aRetriedBatchReplaysWhatCommitted() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let second = try await world.customer(of: tenant)
            let idempotency = Idempotency(client: client, waitLimit: .seconds(5), leaseSeconds: 0.2)
            let request = FreezeRequest(type: .purchaseAndResources, reason: "batch", agreementAccepted: true, verificationCode: nil)
            func batch(_ ids: [CustomerID]) async throws -> [BatchOutcome<FreezeResult>] {
                switch try await idempotency.claim(
                    tenant.partner.principal, tenantID: tenant.partnerID.uuid, key: "batch", requestHash: Self.hash("b"), render: Self.render)
                {
                case .replay: throw PartnerError(.internalError, "nothing was stored for the whole batch")
                case .proceed(let claim):
                    var context = tenant.partner.context
                    context.idempotency = claim
                    return try await world.services.restrictions.freeze(customerIDs: ids, request, context: context)
                }
            }
            // The first attempt got as far as the first customer, then died (no answer stored).
            let first = try await batch([tenant.customerID])
            #expect(first.map(\.outcome) == [.succeeded])
            try await Task.sleep(for: .milliseconds(300))
            let retried = try await batch([tenant.customerID, second.customerID])
            #expect(retried.map(\.outcome) == [.succeeded, .succeeded])
            #expect(retried[0].result == first[0].result)
            #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == 1)
            #expect(try await client.status(of: second) == "frozen")
        }
    }

    /// A request that is slow but alive renews its lease, so its own retry waits for its
    /// answer instead of taking the claim over and doing the work a second time.
    @Test func aLiveRequestKeepsItsClaimPastTheLease() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let idempotency = Idempotency(client: client, waitLimit: .milliseconds(300), leaseSeconds: 0.6)
            guard case .proceed(let claim) = try await Self.claim(idempotency, tenant, key: "slow", body: "b") else {
                Issue.record("a new key must be claimed")
                return
            }
            try await claim.keepAlive {
                try await Task.sleep(for: .milliseconds(1_500))
                // Still in progress (the renewals write the record, so no unchanged-state check).
                let refusal = await #expect(throws: PartnerError.self) {
                    try await Self.claim(idempotency, tenant, key: "slow", body: "b")
                }
                #expect(refusal?.code == .rateLimited)
            }
            // Once the request is over its lease is no longer renewed.
            try await Task.sleep(for: .milliseconds(800))
            guard case .proceed = try await Self.claim(idempotency, tenant, key: "slow", body: "b") else {
                Issue.record("a claim nobody renews must be taken over")
                return
            }
        }
    }

    /// Two attempts of one batch at once (the retry took over the claim of a request that was
    /// still running): the customer's lock orders them, and the second replays the outcome
    /// the first committed instead of finding the customer already restricted.
    @Test func twoAttemptsOfABatchChangeEachCustomerOnce() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let idempotency = Idempotency(client: client, waitLimit: .seconds(5), leaseSeconds: 0.2)
            let request = FreezeRequest(type: .purchaseAndResources, reason: "batch", agreementAccepted: true, verificationCode: nil)
            func claimed() async throws -> IdempotentClaim {
                guard case .proceed(let claim) = try await idempotency.claim(
                    tenant.partner.principal, tenantID: tenant.partnerID.uuid, key: "batch", requestHash: Self.hash("b"), render: Self.render)
                else { throw PartnerError(.internalError, "the claim must be taken") }
                return claim
            }
            func attempt(_ claim: IdempotentClaim) async throws -> [BatchOutcome<FreezeResult>] {
                var context = tenant.partner.context
                context.idempotency = claim
                return try await world.services.restrictions.freeze(customerIDs: [tenant.customerID], request, context: context)
            }
            let holder = try database.connect()
            defer { holder.close() }
            try holder.simpleQuery("BEGIN")
            try holder.query("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE", [tenant.customerID])
            let first = try await claimed()
            async let firstOutcomes = attempt(first)
            try await Task.sleep(for: .milliseconds(300))
            let second = try await claimed()
            async let secondOutcomes = attempt(second)
            try await Task.sleep(for: .milliseconds(200))
            try holder.simpleQuery("ROLLBACK")
            let (a, b) = try await (firstOutcomes, secondOutcomes)
            #expect(a.map(\.outcome) == [.succeeded])
            #expect(b.map(\.outcome) == [.succeeded])
            #expect(a[0].result == b[0].result)
            #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [tenant.customerID]) == 1)
        }
    }

    /// A customer of a batch failed on our side (here its change outlasted the statement
    /// timeout, as under a database in trouble): the answer says so but is not kept, and the
    /// retry replays the customer that committed and does the one that failed.
    @Test func aBatchAnswerWithAFailureOnOurSideIsNotKept() async throws {
        let database = try await TestDatabase.create()
        let client = try database.client(statementTimeout: .milliseconds(500))
        let world = try await World.build(client: client)
        let done = try await world.tenant()
        let stuck = try await world.customer(of: done)
        let idempotency = Idempotency(client: client, waitLimit: .seconds(5), leaseSeconds: 30)
        let request = FreezeRequest(type: .purchaseAndResources, reason: "batch", agreementAccepted: true, verificationCode: nil)
        func attempt() async throws -> (IdempotentClaim, [BatchOutcome<FreezeResult>]) {
            guard case .proceed(let claim) = try await idempotency.claim(
                done.partner.principal, tenantID: done.partnerID.uuid, key: "batch", requestHash: Self.hash("b"), render: Self.render)
            else { throw PartnerError(.internalError, "the claim must be taken") }
            var context = done.partner.context
            context.idempotency = claim
            return (claim, try await world.services.restrictions.freeze(
                customerIDs: [done.customerID, stuck.customerID], request, context: context))
        }
        let holder = try database.connect()
        try holder.simpleQuery("BEGIN")
        try holder.query("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE", [stuck.customerID])
        let (claim, outcomes) = try await attempt()
        try holder.simpleQuery("ROLLBACK")
        holder.close()
        #expect(outcomes.map(\.outcome) == [.succeeded, .failed])
        #expect(outcomes[1].error?.code == "service_unavailable")
        #expect(claim.hasTransientOutcome)
        #expect(try await claim.release() == nil)
        let (_, retried) = try await attempt()
        #expect(retried.map(\.outcome) == [.succeeded, .succeeded])
        #expect(retried[0].result == outcomes[0].result)
        #expect(try await client.int("SELECT count(*) FROM restrictions WHERE customer_id = $1", [done.customerID]) == 1)
        #expect(try await client.status(of: stuck) == "frozen")
        await client.shutdown()
        try await database.drop()
    }

    @Test func recordsOlderThanADayArePurged() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await Self.freezeOnce(world, tenant, key: "old", body: "unpaid")
            let other = try await world.tenant()
            _ = try await Self.freezeOnce(world, other, key: "new", body: "unpaid")
            try await client.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'")
            #expect(try await Idempotency.purge(client) == 1)
            #expect(try await client.int("SELECT count(*) FROM idempotency_keys WHERE key = 'new'") == 1)
        }
    }

    static let badKeys = ["", "has space", "naïve", String(repeating: "k", count: 256)]

    @Test(arguments: badKeys)
    func aMalformedKeyIsAValidationFailure(key: String) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            try await expectRefusal(.validationFailed, client) {
                try await Self.claim(world.services.idempotency, tenant, key: key, body: "b")
            }
        }
    }
}
