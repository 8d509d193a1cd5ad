import Foundation
import PartnerCore
import Testing

/// One UUID form in output: lowercase (RFC 9562), in answers as in event data and audit
/// details, so a client comparing ids as strings finds them equal. Input takes any case.
@Suite("UUID form")
struct IDFormTests {
    @Test(arguments: [true, false])
    func answersWriteIdsInLowercaseWhateverCaseTheRequestUsed(_ uppercasePath: Bool) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let lower = tenant.customer.id.uuidString.lowercased()
            let pathID = uppercasePath ? lower.uppercased() : lower
            let buy = try await api.call(
                .post, "/v1/customers/\(pathID)/orders", as: tenant.customer.token,
                json: #"{"action":"buy","resource":{"type":"vm","billing_mode":"pay_per_use"}}"#)
            expectSuccess(buy, 201)
            let read = try await api.call(.get, "/v1/customers/\(pathID)", as: tenant.partner.token)
            expectSuccess(read, 200)
            #expect(read.json["id"]?.string == lower)
            for answer in [buy.text, read.text] {
                let ids = Self.uuids(in: answer)
                #expect(ids.count >= 2, "\(answer)")
                #expect(ids.allSatisfy { $0 == $0.lowercased() }, "\(answer)")
            }
            let orderID = try #require(buy.json["order_id"]?.string)
            let audited = try await api.client.string(
                "SELECT details->>'order_id' FROM audit_events WHERE action = 'order.buy' AND details->>'order_id' = lower($1)",
                [orderID])
            #expect(audited == orderID, "the audit's details and the answer write the same string")
        }
    }

    /// Every UUID-shaped substring, in the case it was written.
    static func uuids(in text: String) -> [String] {
        text.matches(of: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/).map { String($0.output) }
    }
}
