import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §4: lists take `limit` ≤ 200 and an opaque cursor; anything else is a clear
/// `validation_failed`, never a database error.
@Suite("Paging: limits and cursors", .serialized)
struct PagingTests {
    /// A cursor in the service's own format whose position is not one a list wrote.
    static func forged(_ position: String) -> String {
        Data(("v1:" + position).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static let badLimits: [Int] = [0, -1, 201, Int.max]

    @Test(arguments: badLimits)
    func aLimitOutsideOneTo200IsRefused(limit: Int) throws {
        let error = #expect(throws: PartnerError.self) { try PageRequest(limit: limit) }
        #expect(error?.code == .validationFailed)
    }

    static let badCursors: [String] = ["%%%", "bm90IHYx", String(repeating: "A", count: 300)]

    @Test(arguments: badCursors)
    func aCursorTheServiceDidNotWriteIsRefused(cursor: String) throws {
        let error = #expect(throws: PartnerError.self) { try PageRequest(cursor: cursor) }
        #expect(error?.code == .validationFailed)
    }

    /// Well-formed cursors with positions of the wrong kind, given to each list.
    @Test func aForgedPositionIsRefusedByEveryList() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let services = world.services
            for position in ["not-a-uuid", "1; DROP TABLE customers", "99999999999999999999"] {
                let page = try PageRequest(cursor: Self.forged(position))
                try await expectRefusal(.validationFailed, client) {
                    try await services.customers.list(tenant.partner.principal, status: nil, page: page)
                }
                try await expectRefusal(.validationFailed, client) {
                    try await services.resources.list(tenant.partner.principal, customerID: tenant.customerID, state: nil, page: page)
                }
                try await expectRefusal(.validationFailed, client) {
                    try await services.auditLog.list(tenant.partner.principal, customerID: nil, page: page)
                }
                try await expectRefusal(.validationFailed, client) {
                    try await services.outbox.feed(tenant.partner.principal, page: page)
                }
                try await expectRefusal(.validationFailed, client) {
                    try await services.grants.partners(of: tenant.distributor.principal, page: page)
                }
            }
        }
    }

    @Test func customerListsPageByIdAndFilterByStatus() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            var customers = [tenant]
            for _ in 0..<4 { customers.append(try await world.customer(of: tenant, payPerUse: 0, prepaid: 0)) }
            let all = customers.map(\.customerID)
            _ = try await world.freeze(customers[2])
            var seen: [CustomerID] = []
            var cursor: String? = nil
            repeat {
                let page = try await world.services.customers.list(tenant.partner.principal, status: nil, page: PageRequest(limit: 2, cursor: cursor))
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == all.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() })
            let frozen = try await world.services.customers.list(tenant.partner.principal, status: .frozen, page: PageRequest())
            #expect(frozen.items.map(\.id) == [all[2]])
            #expect(frozen.items[0].activeRestriction?.type == .purchaseAndResources)
        }
    }
}
