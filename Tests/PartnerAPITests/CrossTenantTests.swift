import Foundation
import PartnerCore
import TestSupport
import Testing

/// Invariant 7: a principal never sees or touches another tenant's objects. Every route that
/// takes an id answers another distributor's partner, customer or resource exactly as it
/// answers a random UUID (`not_found` where the caller could use the route at all), and
/// nothing changes; lists, counts, the audit log and the events feed never show them.
@Suite("Cross-tenant isolation")
struct CrossTenantTests {
    /// The routes that name an object by id (in the path, the query or the body).
    static let routesWithIDs: [Route] = [
        .getPermission, .grantPermission, .revokePermission,
        .getCustomer, .listResources, .freeze, .unfreeze, .batchFreeze, .batchUnfreeze, .getBudget, .setBudget, .removeBudget,
        .order, .usage,
        Route(.get, "/v1/audit-events?customer_id={customer_id}"),
        Route(.post, "/v1/customers/{customer_id}/orders", #"{"action":"renew","resource_id":"{resource_id}","term_months":1}"#),
        Route(.post, "/v1/customers/{customer_id}/orders", #"{"action":"change","resource_id":"{resource_id}","spec":{"a":1}}"#),
        // Operator-only routes refuse tenants whatever the id: the same answer either way.
        .updateDistributor, .updatePartner, .provisionResources, .createAPIKey, .createPartner, .createCustomer,
    ]

    /// What a route answers: status and the whole error body, so "indistinguishable" includes the message.
    struct Answer: Equatable, CustomStringConvertible {
        let status: Int
        let body: String
        var description: String { "\(status) \(body)" }
    }

    func answer(_ api: API, _ route: Route, _ token: String, _ ids: [String: String]) async throws -> Answer {
        let result = try await api.call(route.method, route.path(ids), as: token, json: route.body(ids))
        #expect(result.code < 500, "\(route.testDescription): \(result)")
        // A batch answers 200 with per-customer outcomes: compare those (without the id itself).
        if result.code == 200, let results = result.json["results"]?.array {
            let outcomes = results.map { JSONValue.array([$0["outcome"] ?? .null, $0["error"] ?? .null]) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Answer(status: 200, body: String(decoding: try encoder.encode(outcomes), as: UTF8.self))
        }
        return Answer(status: result.code, body: result.text)
    }

    enum Caller: String, CaseIterable, Sendable { case distributor, partner, customer }

    @Test(arguments: Caller.allCases)
    func anotherTenantsIDsAnswerLikeRandomOnes(_ caller: Caller) async throws {
        try await withAPI { (api) async throws in try await compareForeignAndRandomIDs(api, caller) }
    }

    func compareForeignAndRandomIDs(_ api: API, _ caller: Caller) async throws {
        let mine = try await api.world.tenant(partnerHoldsGrant: true)
        let theirs = try await api.world.tenant(partnerHoldsGrant: true)
        try await api.world.freeze(theirs, as: theirs.partner.principal, type: .purchase, reason: "set-up")
        let token: String
        switch caller {
        case .distributor: token = mine.distributor.token
        case .partner: token = mine.partner.token
        case .customer: token = mine.customer.token
        }
        let foreign = ["distributor_id": theirs.distributor.id.uuidString, "partner_id": theirs.partner.id.uuidString,
                       "customer_id": theirs.customer.id.uuidString, "resource_id": theirs.prepaidIDs[0].uuidString]
        let random = ["distributor_id": UUID().uuidString, "partner_id": UUID().uuidString,
                      "customer_id": UUID().uuidString, "resource_id": UUID().uuidString]
        // The caller's own customer with the other tenant's resource.
        let mixed = foreign.merging(["customer_id": mine.customer.id.uuidString]) { $1 }
        let mixedRandom = random.merging(["customer_id": mine.customer.id.uuidString]) { $1 }

        let before = try await api.snapshot()
        for route in Self.routesWithIDs {
            let onForeign = try await answer(api, route, token, foreign)
            let onRandom = try await answer(api, route, token, random)
            #expect(onForeign == onRandom, "\(caller) \(route.testDescription): foreign \(onForeign) vs random \(onRandom)")
            if !Route.operatorOnly.contains(route) {
                #expect(
                    onForeign.status == 404 || onForeign.status == 403 || onForeign.body.contains("not_found"),
                    "\(caller) \(route.testDescription): \(onForeign)")
            }
            if route.parameters.contains("resource_id") || route.bodyTemplate?.contains("{resource_id}") == true {
                let onMixed = try await answer(api, route, token, mixed)
                let onMixedRandom = try await answer(api, route, token, mixedRandom)
                #expect(onMixed == onMixedRandom, "\(caller) \(route.testDescription) own customer: \(onMixed) vs \(onMixedRandom)")
            }
        }
        #expect(try await api.snapshot() == before, "nothing of either tenant changed")
    }

    /// The routes a caller may use return 404 `not_found` for the other tenant's ids.
    @Test func theCallersOwnRoutesSayNotFound() async throws {
        try await withAPI { (api) async throws in
            let mine = try await api.world.tenant(partnerHoldsGrant: true)
            let theirs = try await api.world.tenant(partnerHoldsGrant: true)
            let customer = theirs.customer.id
            let resource = theirs.payPerUseIDs[0]
            let partner = theirs.partner.id
            let checks: [(String, Route, [String: String])] = [
                (mine.distributor.token, .getPermission, ["partner_id": "\(partner)"]),
                (mine.distributor.token, .grantPermission, ["partner_id": "\(partner)"]),
                (mine.distributor.token, .revokePermission, ["partner_id": "\(partner)"]),
                (mine.partner.token, .getPermission, ["partner_id": "\(partner)"]),
                (mine.customer.token, .getPermission, ["partner_id": "\(partner)"]),
                (mine.distributor.token, .getCustomer, ["customer_id": "\(customer)"]),
                (mine.partner.token, .getCustomer, ["customer_id": "\(customer)"]),
                (mine.customer.token, .getCustomer, ["customer_id": "\(customer)"]),
                (mine.partner.token, .listResources, ["customer_id": "\(customer)"]),
                (mine.customer.token, .listResources, ["customer_id": "\(customer)"]),
                (mine.distributor.token, .freeze, ["customer_id": "\(customer)"]),
                (mine.partner.token, .freeze, ["customer_id": "\(customer)"]),
                (mine.partner.token, .unfreeze, ["customer_id": "\(customer)"]),
                (mine.partner.token, Route(.get, "/v1/audit-events?customer_id={customer_id}"), ["customer_id": "\(customer)"]),
                (mine.customer.token, .order, ["customer_id": "\(customer)"]),
                (mine.customer.token, .usage, ["customer_id": "\(customer)", "resource_id": "\(resource)"]),
                (mine.customer.token, .usage, ["customer_id": "\(mine.customer.id)", "resource_id": "\(resource)"]),
            ]
            for (token, route, ids) in checks {
                expectError(try await api.call(route.method, route.path(ids), as: token, json: route.body(ids)), 404, "not_found")
            }
            let batch = try await api.call(
                .post, "/v1/customers/freeze", as: mine.partner.token,
                json: json(["customer_ids": ["\(customer)"], "reason": "x", "agreement_accepted": true]))
            #expect(batch.json["results"]?[0]?["error"]?["code"]?.string == "not_found")
            #expect(try await api.client.customerStatus(customer) == "normal")
        }
    }

    /// Lists, counts, the audit log and the feed of one tenant never show the other's objects,
    /// even after the other tenant was busy.
    @Test func listsAuditAndEventsStayWithinTheTenant() async throws {
        try await withAPI { (api) async throws in
            let mine = try await api.world.tenant(partnerHoldsGrant: true)
            let theirs = try await api.world.tenant(partnerHoldsGrant: true)
            // The other tenant is busy: freezes, buys, grants, revokes.
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(theirs.customer.id)/freeze", as: theirs.partner.token, json: FreezeTests.accepted), 200)
            let second = try await api.world.customer(of: theirs)
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(second.customerID)/orders", as: second.customer.token, json: Route.order.bodyTemplate), 201)
            expectSuccess(try await api.call(
                .delete, "/v1/partners/\(theirs.partner.id)/freeze-permission", as: theirs.distributor.token), 200)
            // Mine does something too.
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(mine.customer.id)/freeze", as: mine.partner.token, json: FreezeTests.accepted), 200)

            // The feed shows events once older transactions have ended: wait for the last ones.
            let events = try await api.poll(.get, "/v1/events?limit=200", as: mine.partner.token) { result in
                (result.json["items"]?.array ?? []).contains { $0["customer_id"]?.uuid == mine.customer.id.uuid }
            }
            #expect((events.json["items"]?.array ?? []).contains { $0["customer_id"]?.uuid == mine.customer.id.uuid })
            _ = try await api.poll(.get, "/v1/events?limit=200", as: theirs.distributor.token) { result in
                (result.json["items"]?.array ?? []).contains { $0["data"]?["granted"]?.bool == false }
            }

            let tenantIDs: [UUID] = [theirs.distributor.id.uuid, theirs.partner.id.uuid, theirs.customer.id.uuid, second.customerID.uuid]
            let resourceIDs: [ResourceID] = theirs.payPerUseIDs + theirs.prepaidIDs + second.payPerUseIDs
            let foreignIDs: Set<String> = Set((tenantIDs + resourceIDs.map(\.uuid)).map { $0.uuidString.lowercased() })
            func leaks(_ result: APIResult) -> [String] {
                // Any foreign id anywhere in the answer is a leak.
                foreignIDs.filter { result.text.lowercased().contains($0) }
            }
            let calls: [(String, String)] = [
                (mine.distributor.token, "/v1/partners"),
                (mine.distributor.token, "/v1/customers"),
                (mine.partner.token, "/v1/customers"),
                (mine.customer.token, "/v1/customers"),
                (mine.distributor.token, "/v1/customers?status=frozen"),
                (mine.distributor.token, "/v1/audit-events?limit=200"),
                (mine.partner.token, "/v1/audit-events?limit=200"),
                (mine.customer.token, "/v1/audit-events?limit=200"),
                (mine.distributor.token, "/v1/events?limit=200"),
                (mine.partner.token, "/v1/events?limit=200"),
                (mine.customer.token, "/v1/events?limit=200"),
                (mine.partner.token, "/v1/customers/\(mine.customer.id)"),
                (mine.partner.token, "/v1/customers/\(mine.customer.id)/resources?limit=200"),
            ]
            for (token, path) in calls {
                let result = try await api.call(.get, path, as: token)
                expectSuccess(result, 200)
                #expect(leaks(result).isEmpty, "\(path) shows \(leaks(result))")
            }
            // And the tenant sees its own: the lists are not simply empty.
            let frozen = try await api.call(.get, "/v1/customers?status=frozen", as: mine.distributor.token)
            #expect(frozen.json.itemIDs == [mine.customer.id.uuid])
            let counts = try await api.call(.get, "/v1/customers/\(mine.customer.id)", as: mine.partner.token)
            #expect(counts.json["resource_counts"]?["total"]?.int == 5)
        }
    }
}
