import Crypto
import Foundation
import Logging
import PartnerAPI
@testable import PartnerCore
import Postgres
import TestSupport
import Testing

/// Webhooks (DESIGN §11): subscriptions through the API, and the delivery worker against a
/// real receiver on loopback: signed, in feed order, retried with backoff, given up after
/// the window, never two attempts at once on one subscription.
@Suite("Webhooks")
struct WebhookTests {
    /// A worker with short waits: retries after 50 ms doubling, given up after `giveUp`.
    static func delivery(_ api: API, giveUp: Double = 60, timeout: Double = 5) -> WebhookDelivery {
        var policy = WebhookDelivery.Policy()
        policy.firstRetrySeconds = 0.05
        policy.maximumRetrySeconds = 0.2
        policy.giveUpSeconds = giveUp
        policy.timeoutSeconds = timeout
        policy.pollSeconds = 0.02
        policy.batch = 5
        return WebhookDeliveryService.delivery(
            client: api.services.client, key: api.services.webhooks.key, policy: policy, production: false,
            logger: Logger(label: "webhook-test"))
    }

    /// Runs the worker until `done` holds (the feed waits for older transactions of other
    /// tests, so events show up when they do), at most thirty seconds.
    static func deliver(_ delivery: WebhookDelivery, until done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !done() && ContinuousClock.now < deadline {
            _ = try await delivery.runOnce()
            try await Task.sleep(for: .milliseconds(30))
        }
    }

    /// The tenant's grant was made before its subscriptions; whether its event is sent
    /// depends on the transactions of other tests still running then (a subscription starts
    /// at the oldest of them), so the checks leave it out.
    static func afterSubscribing(_ event: JSONValue) -> Bool { event["type"]?.string != Outbox.EventType.grantChanged }
    static func afterSubscribing(_ hit: WebhookReceiver.Hit) -> Bool { hit.eventType != Outbox.EventType.grantChanged }

    static func subscribe(_ api: API, _ token: String, url: String, types: [String]? = nil) async throws -> (id: String, secret: String) {
        var body: [String: Any] = ["url": url]
        if let types { body["event_types"] = types }
        let created = try await api.call(.post, "/v1/webhooks", as: token, json: json(body))
        expectSuccess(created, 201)
        return (try #require(created.json["id"]?.string), try #require(created.json["secret"]?.string))
    }

    /// Freezes and unfreezes the tenant's customer: four events of its feed.
    static func freezeAndLift(_ api: API, _ tenant: Tenant) async throws {
        expectSuccess(try await api.call(
            .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: FreezeTests.accepted), 200)
        expectSuccess(try await api.call(
            .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token, json: #"{"reason":"paid"}"#), 200)
    }

    @Test func signaturesVerifyAndRefuseTamperingAndOldTimestamps() {
        let body = Array(#"{"id":1}"#.utf8)
        let now = Int(Date().timeIntervalSince1970)
        let header = WebhookSignature.sign(body: body, secret: "whsec_test", timestamp: now)
        #expect(header.hasPrefix("t=\(now),v1="))
        #expect(header.count == "t=\(now),v1=".count + 64)
        #expect(WebhookSignature.verify(header: header, body: body, secret: "whsec_test"))
        #expect(!WebhookSignature.verify(header: header, body: Array(#"{"id":2}"#.utf8), secret: "whsec_test"))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: "whsec_other"))
        let old = WebhookSignature.sign(body: body, secret: "whsec_test", timestamp: now - 3600)
        #expect(!WebhookSignature.verify(header: old, body: body, secret: "whsec_test"))
    }

    @Test func subscriptionsAreTheOwnersAndTheirSecretIsShownOnceAndStoredSealed() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let other = try await api.world.tenant()
            let created = try await api.call(
                .post, "/v1/webhooks", as: tenant.partner.token, json: #"{"url":"https://hooks.example.com/pc","event_types":["customer.restricted"]}"#,
                headers: [.init("Idempotency-Key")!: "hook-1"])
            expectSuccess(created, 201)
            let id = try #require(created.json["id"]?.string)
            let secret = try #require(created.json["secret"]?.string)
            #expect(secret.hasPrefix("whsec_") && secret.count == 49)
            #expect(created.json["secret_prefix"]?.string == String(secret.prefix(12)))
            // A replay answers the same subscription without its secret.
            let replay = try await api.call(
                .post, "/v1/webhooks", as: tenant.partner.token, json: #"{"url":"https://hooks.example.com/pc","event_types":["customer.restricted"]}"#,
                headers: [.init("Idempotency-Key")!: "hook-1"])
            #expect(replay.json["id"]?.string == id && replay.json["secret"] == nil, "\(replay)")
            // Stored sealed: neither the secret nor its random part is in the row.
            let sealed = try #require(try await api.client.string("SELECT encode(secret_sealed, 'escape') FROM webhook_subscriptions WHERE id = $1::uuid", [id]))
            #expect(!sealed.contains(String(secret.dropFirst(6))))
            #expect(try await api.client.int("SELECT count(*)::int FROM idempotency_keys WHERE response_body LIKE '%' || $1 || '%'", [secret]) == 0)
            // Listed without secrets, to the owner only.
            let list = try await api.call(.get, "/v1/webhooks", as: tenant.partner.token)
            #expect(list.json["items"]?.array?.count == 1 && list.json["items"]?[0]?["secret"] == nil, "\(list)")
            #expect(try await api.call(.get, "/v1/webhooks", as: tenant.distributor.token).json["items"]?.array?.count == 0)
            for token in [tenant.distributor.token, other.partner.token] {
                expectError(try await api.call(.get, "/v1/webhooks/\(id)/deliveries", as: token), 404, "not_found")
                expectError(try await api.call(.delete, "/v1/webhooks/\(id)", as: token), 404, "not_found")
            }
            expectError(try await api.call(.get, "/v1/webhooks", as: tenant.customer.token), 403, "forbidden")
            expectError(try await api.call(.post, "/v1/webhooks", as: api.operatorToken, json: #"{"url":"https://a.example"}"#), 403, "forbidden")
            #expect(try await api.client.int("SELECT count(*)::int FROM audit_events WHERE action = 'webhook.created' AND target_id = $1::uuid", [id]) == 1)
            expectSuccess(try await api.call(.delete, "/v1/webhooks/\(id)", as: tenant.partner.token), 200)
            expectError(try await api.call(.delete, "/v1/webhooks/\(id)", as: tenant.partner.token), 404, "not_found")
            #expect(try await api.client.int("SELECT count(*)::int FROM audit_events WHERE action = 'webhook.deleted' AND target_id = $1::uuid", [id]) == 1)
        }
    }

    @Test(arguments: [
        #"{"url":"http://hooks.example.com/pc"}"#,  // http beyond loopback
        #"{"url":"ftp://127.0.0.1/pc"}"#,
        #"{"url":"https://user:pw@hooks.example.com/pc"}"#,
        #"{"url":"https://hooks.example.com/pc#x"}"#,
        #"{"url":"/relative"}"#,
        #"{"url":"https://hooks.example.com/pc","event_types":["customer.restricted","no.such"]}"#,
        #"{"url":"https://hooks.example.com/pc","event_types":[]}"#,
        #"{"event_types":["customer.restricted"]}"#,
    ])
    func badSubscriptionsAreRefusedAndChangeNothing(_ body: String) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            expectError(try await api.call(.post, "/v1/webhooks", as: tenant.partner.token, json: body), 422, "validation_failed")
            #expect(try await api.client.int("SELECT count(*)::int FROM webhook_subscriptions") == 0)
        }
    }

    @Test func productionTakesHTTPSToPublicAddressesOnly() throws {
        #expect(throws: PartnerError.self) { try WebhookURL.validate("http://127.0.0.1:8080/x", production: true) }
        for address in ["https://127.0.0.1/x", "https://10.1.2.3/x", "https://192.168.0.1/x", "https://169.254.169.254/latest", "https://[::1]/x",
                        "https://localhost/x"] {
            #expect(throws: PartnerError.self, "\(address)") { try WebhookURL.validate(address, production: true) }
        }
        #expect(try WebhookURL.validate("https://hooks.example.com/x", production: true).host == "hooks.example.com")
        #expect(try WebhookURL.validate("http://localhost:9000/x", production: false).port == 9000)
    }

    /// Every event of the partner's feed arrives once, in the feed's order, as the feed's own
    /// JSON object, signed with the subscription's secret; the attempts are readable.
    @Test func eventsArriveSignedInFeedOrderAsTheFeedShowsThem() async throws {
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                let hook = try await Self.subscribe(api, tenant.partner.token, url: "http://127.0.0.1:\(port)/all")
                let restricted = try await Self.subscribe(
                    api, tenant.distributor.token, url: "http://localhost:\(port)/restricted", types: ["customer.restricted"])
                try await Self.freezeAndLift(api, tenant)
                try await Self.freezeAndLift(api, tenant)
                let feed = try await api.poll(.get, "/v1/events?limit=200", as: tenant.partner.token) { $0.json["items"]?.array?.count ?? 0 >= 8 }
                let events = try #require(feed.json["items"]?.array).filter(Self.afterSubscribing)
                let delivery = Self.delivery(api)
                try await Self.deliver(delivery) {
                    receiver.hits("/all").filter(Self.afterSubscribing).count >= events.count
                        && receiver.hits("/restricted").count >= 2
                }
                let hits = receiver.hits("/all").filter(Self.afterSubscribing)
                #expect(hits.map(\.eventID) == events.map { String($0["id"]?.int ?? -1) })
                for (hit, event) in zip(hits, events) {
                    #expect(try JSONDecoder().decode(JSONValue.self, from: Data(hit.body)) == event)
                    #expect(WebhookSignature.verify(header: hit.signature, body: hit.body, secret: hook.secret))
                    #expect(hit.eventType == event["type"]?.string)
                }
                let only = receiver.hits("/restricted")
                #expect(only.map(\.eventType) == ["customer.restricted", "customer.restricted"])
                #expect(only.allSatisfy { WebhookSignature.verify(header: $0.signature, body: $0.body, secret: restricted.secret) })
                #expect(receiver.overlaps == 0)
                let attempts = try await api.call(.get, "/v1/webhooks/\(hook.id)/deliveries?limit=200", as: tenant.partner.token)
                #expect(attempts.json["items"]?.array?.filter { $0["event_type"] != .string(Outbox.EventType.grantChanged) }.count == events.count)
                #expect(attempts.json["items"]?.array?.allSatisfy { $0["outcome"]?.string == "delivered" && $0["status_code"]?.int == 200 } == true)
                // Counted by outcome, under Prometheus's names.
                let metrics = try await api.call(.get, "/metrics").text
                #expect(metrics.contains(#"partner_center_webhook_deliveries_total{outcome="delivered"}"#), "\(metrics.prefix(3000))")
                // Caught up: the next run sends nothing again.
                let sent = receiver.hits("/all").count
                _ = try await delivery.runOnce()
                #expect(receiver.hits("/all").count == sent)
            }
        }
    }

    /// A failing receiver is retried with growing waits, the next event waits behind it, and
    /// a timeout counts as a failure; after the window the event is given up and the
    /// subscription goes on.
    @Test func failuresAreRetriedInOrderThenGivenUp() async throws {
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                let hook = try await Self.subscribe(
                    api, tenant.partner.token, url: "http://127.0.0.1:\(port)/flaky", types: ["customer.restricted", "customer.unrestricted"])
                receiver.script("/flaky", [500, 503])
                try await Self.freezeAndLift(api, tenant)
                let delivery = Self.delivery(api)
                try await Self.deliver(delivery) { receiver.hits("/flaky").count >= 4 }
                let hits = receiver.hits("/flaky")
                // restricted ×3 (500, 503, 200), then unrestricted once.
                #expect(hits.map(\.eventType) == ["customer.restricted", "customer.restricted", "customer.restricted", "customer.unrestricted"])
                let attempts = try await api.call(.get, "/v1/webhooks/\(hook.id)/deliveries", as: tenant.partner.token)
                let items = try #require(attempts.json["items"]?.array).reversed().map { $0 }
                #expect(items.map { $0["outcome"]?.string } == ["retrying", "retrying", "delivered", "delivered"])
                #expect(items.map { $0["status_code"]?.int } == [500, 503, 200, 200])
                #expect(items.map { $0["attempt"]?.int } == [1, 2, 3, 1])
                #expect(items[0]["next_retry_at"]?.string != nil && items[2]["next_retry_at"] == nil)

                // Given up: a receiver that never answers in time, a window of 0.3 s.
                let slow = try await Self.subscribe(api, tenant.partner.token, url: "http://127.0.0.1:\(port)/slow", types: ["customer.restricted"])
                receiver.delay("/slow", .seconds(2))
                try await Self.freezeAndLift(api, tenant)
                try await Self.freezeAndLift(api, tenant)
                let impatient = Self.delivery(api, giveUp: 0.3, timeout: 0.2)
                var given: [JSONValue] = []
                let deadline = ContinuousClock.now + .seconds(30)
                while given.count < 2 && ContinuousClock.now < deadline {
                    _ = try await impatient.runOnce()
                    given = try await api.call(.get, "/v1/webhooks/\(slow.id)/deliveries?limit=200", as: tenant.partner.token)
                        .json["items"]?.array?.filter { $0["outcome"]?.string == "failed" } ?? []
                    try await Task.sleep(for: .milliseconds(30))
                }
                // Both events were given up, one after the other, each after timeouts.
                #expect(given.count == 2)
                #expect(given.allSatisfy { $0["error"]?.string == "timeout" && $0["status_code"] == nil })
                #expect(Set(given.compactMap { $0["event_id"]?.int }).count == 2)
            }
        }
    }

    /// Workers racing for the same subscriptions never send to one at the same time, and
    /// every event arrives exactly once here (no worker died).
    @Test func concurrentWorkersNeverShareASubscription() async throws {
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                for path in ["/a", "/b", "/c"] {
                    _ = try await Self.subscribe(api, tenant.partner.token, url: "http://127.0.0.1:\(port)\(path)")
                    receiver.delay(path, .milliseconds(20))
                }
                for _ in 0..<3 { try await Self.freezeAndLift(api, tenant) }
                let feed = try await api.poll(.get, "/v1/events?limit=200", as: tenant.partner.token) { $0.json["items"]?.array?.count ?? 0 >= 12 }
                let expected = try #require(feed.json["items"]?.array).filter(Self.afterSubscribing).map { String($0["id"]?.int ?? -1) }
                let delivery = Self.delivery(api)
                let done: @Sendable () -> Bool = {
                    ["/a", "/b", "/c"].allSatisfy { receiver.hits($0).filter(Self.afterSubscribing).count >= expected.count }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { try await Self.deliver(delivery, until: done) } }
                    try await group.waitForAll()
                }
                #expect(receiver.overlaps == 0)
                for path in ["/a", "/b", "/c"] {
                    #expect(receiver.hits(path).filter(Self.afterSubscribing).map(\.eventID) == expected, "\(path)")
                }
                #expect(try await delivery.measureLag() == 0)
            }
        }
    }

    /// A worker whose lease ran out (it died) is taken over from the stored position; a
    /// lease still running keeps other workers off.
    @Test func aHeldClaimKeepsWorkersOffAndAnExpiredOneIsTakenOver() async throws {
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                let hook = try await Self.subscribe(api, tenant.partner.token, url: "http://127.0.0.1:\(port)/x", types: ["customer.restricted"])
                try await Self.freezeAndLift(api, tenant)
                let delivery = Self.delivery(api)
                // A claim another worker holds: nothing is sent.
                _ = try await api.client.query(
                    "UPDATE webhook_subscriptions SET claim_token = gen_random_uuid(), claimed_until = now() + interval '1 hour' WHERE id = $1::uuid",
                    [hook.id])
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await delivery.runOnce().subscriptions == 0)
                #expect(receiver.hits("/x").isEmpty)
                // The same claim once its lease ran out (the worker died): taken over.
                _ = try await api.client.query(
                    "UPDATE webhook_subscriptions SET claimed_until = now() - interval '1 second' WHERE id = $1::uuid", [hook.id])
                try await Self.deliver(delivery) { receiver.hits("/x").count >= 1 }
                #expect(receiver.hits("/x").count == 1)
                #expect(try await api.client.int(
                    "SELECT count(*)::int FROM webhook_subscriptions WHERE id = $1::uuid AND claim_token IS NULL", [hook.id]) == 1)
            }
        }
    }

    /// The verification-code webhook is signed like the event webhooks and tried again when
    /// the gateway fails; without its secret it is refused at start-up.
    @Test func verificationCodesGoToTheirWebhookSignedAndRetried() async throws {
        let secret = String(repeating: "k", count: 32)
        try await withWebhookReceiver { receiver, port in
            receiver.script("/codes", [502])
            let delivery = try VerificationCodeDelivery.named(
                "webhook", webhookURL: "http://127.0.0.1:\(port)/codes", webhookSecret: secret, environment: "development",
                logger: Logger(label: "webhook-test"))
            let id = UUID()
            try await delivery.deliver(code: "123456", id: id, to: Principal(kind: .partner, id: UUID()), purpose: .freeze, expiresAt: Date())
            let hits = receiver.hits("/codes")
            #expect(hits.count == 2)
            #expect(hits.allSatisfy { WebhookSignature.verify(header: $0.signature, body: $0.body, secret: secret) })
            #expect(hits.allSatisfy { $0.eventID == id.uuidString.lowercased() })
            #expect(String(decoding: hits[1].body, as: UTF8.self).contains(#""code":"123456""#))
            // A gateway that keeps failing: three tries, then the caller is told.
            receiver.script("/codes", [500, 500, 500])
            await #expect(throws: PartnerError.self) {
                try await delivery.deliver(code: "654321", id: UUID(), to: Principal(kind: .partner, id: UUID()), purpose: .freeze, expiresAt: Date())
            }
            #expect(receiver.hits("/codes").count == 5)
        }
        #expect(throws: PartnerError.self) {
            try VerificationCodeDelivery.named(
                "webhook", webhookURL: "https://sms.example.com/codes", webhookSecret: nil, environment: "development", logger: Logger(label: "t"))
        }
    }

    /// The signature checked by an HMAC computed here from the header's own parts, not by
    /// `WebhookSignature.verify`.
    @Test func theSignatureIsHMACSHA256OfTheTimestampDotTheBody() {
        let body = Array(#"{"id":7,"type":"customer.restricted"}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: "whsec_independent", timestamp: 1_764_460_800)
        let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map { part in
            let pair = part.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("1764460800.".utf8) + Data(body), using: SymmetricKey(data: Data("whsec_independent".utf8)))
        #expect(parts["t"] == "1764460800")
        #expect(parts["v1"] == mac.map { String(format: "%02x", $0) }.joined())
    }

    /// The schedule: 1 s after the first failure, doubling, at most an hour; 24 h after the
    /// first failure the event is given up and the next one is tried. Time passing is the
    /// subscription's due time (and first failure) moved back, as the sweep tests move
    /// deadlines.
    @Test func theRetryScheduleDoublesFromOneSecondToAnHourAndGivesUpAfterADay() async throws {
        let policy = WebhookDelivery.Policy()
        #expect((1...14).map { policy.retryDelay(afterAttempts: $0) }
            == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600])
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                let hook = try await Self.subscribe(
                    api, tenant.partner.token, url: "http://127.0.0.1:\(port)/down", types: ["customer.restricted", "customer.unrestricted"])
                receiver.script("/down", Array(repeating: 500, count: 100))
                try await Self.freezeAndLift(api, tenant)
                let delivery = WebhookDeliveryService.delivery(
                    client: api.services.client, key: api.services.webhooks.key, policy: policy, production: false,
                    logger: Logger(label: "webhook-test"))
                func attempts() async throws -> [JSONValue] {
                    try await api.call(.get, "/v1/webhooks/\(hook.id)/deliveries?limit=200", as: tenant.partner.token).json["items"]?.array?
                        .reversed() ?? []
                }
                func due() async throws {
                    _ = try await api.client.query("UPDATE webhook_subscriptions SET next_attempt_at = now() WHERE id = $1::uuid", [hook.id])
                }
                try await Self.deliver(delivery) { receiver.hits("/down").count >= 1 }
                for _ in 0..<3 {
                    try await due()
                    let before = receiver.hits("/down").count
                    try await Self.deliver(delivery) { receiver.hits("/down").count > before }
                }
                let waits = try await attempts().map { attempt -> Double in
                    let strategy = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
                    let at = try Date(attempt["attempted_at"]?.string ?? "", strategy: strategy)
                    let next = try Date(attempt["next_retry_at"]?.string ?? "", strategy: strategy)
                    return next.timeIntervalSince(at)
                }
                #expect(waits.count == 4)
                for (wait, expected) in zip(waits, [1.0, 2, 4, 8]) {
                    #expect(abs(wait - expected) < 0.5, "\(waits)")
                }
                // A day after the first failure: given up, and the next event goes on.
                _ = try await api.client.query(
                    "UPDATE webhook_subscriptions SET first_failed_at = now() - interval '24 hours 1 second', next_attempt_at = now() WHERE id = $1::uuid",
                    [hook.id])
                try await Self.deliver(delivery) { receiver.hits("/down").count >= 6 }
                let last = try await attempts().suffix(2)
                #expect(last.map { $0["outcome"]?.string } == ["failed", "retrying"])
                #expect(last.map { $0["event_type"]?.string } == ["customer.restricted", "customer.unrestricted"])
                #expect(last.first?["attempt"]?.int == 5 && last.last?["attempt"]?.int == 1)
            }
        }
    }

    /// A deleted subscription gets nothing more, though its events keep coming.
    @Test func aDeletedSubscriptionStops() async throws {
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                let hook = try await Self.subscribe(api, tenant.partner.token, url: "http://127.0.0.1:\(port)/gone", types: ["customer.restricted"])
                try await Self.freezeAndLift(api, tenant)
                let delivery = Self.delivery(api)
                try await Self.deliver(delivery) { receiver.hits("/gone").count >= 1 }
                expectSuccess(try await api.call(.delete, "/v1/webhooks/\(hook.id)", as: tenant.partner.token), 200)
                try await Self.freezeAndLift(api, tenant)
                _ = try await api.poll(.get, "/v1/events?limit=200", as: tenant.partner.token) {
                    $0.json["items"]?.array?.filter { $0["type"]?.string == "customer.restricted" }.count ?? 0 >= 2
                }
                for _ in 0..<5 {
                    _ = try await delivery.runOnce()
                    try await Task.sleep(for: .milliseconds(30))
                }
                #expect(receiver.hits("/gone").count == 1)
            }
        }
    }

    /// A worker told to stop (graceful shutdown) sends nothing more and gives its claim back
    /// at once, due again, so the next worker goes on without waiting for the lease.
    @Test func aStoppingWorkerGivesItsClaimBackAtOnce() async throws {
        try await withAPI { (api) async throws in
            try await withWebhookReceiver { receiver, port in
                let tenant = try await api.world.tenant()
                let hook = try await Self.subscribe(api, tenant.partner.token, url: "http://127.0.0.1:\(port)/stop", types: ["customer.restricted"])
                try await Self.freezeAndLift(api, tenant)
                _ = try await api.poll(.get, "/v1/events?limit=200", as: tenant.partner.token) {
                    $0.json["items"]?.array?.contains { $0["type"]?.string == "customer.restricted" } == true
                }
                let delivery = Self.delivery(api)
                let stopped = try await delivery.deliverNext(stopping: { true })
                #expect(stopped?.delivered == 0)
                #expect(receiver.hits("/stop").isEmpty)
                #expect(try await api.client.int(
                    "SELECT count(*)::int FROM webhook_subscriptions WHERE id = $1::uuid AND claim_token IS NULL AND next_attempt_at <= now()",
                    [hook.id]) == 1)
                try await Self.deliver(delivery) { receiver.hits("/stop").count >= 1 }
                #expect(receiver.hits("/stop").count == 1)
            }
        }
    }
}
