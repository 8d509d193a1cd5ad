import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2, "Applying a restriction" and "Lifting a restriction": the input rules, the
/// agreement, the batch limits and the restriction states — each refusal changing nothing.
@Suite("Freeze rules: reason, agreement, batch, restriction state", .serialized)
struct FreezeRulesTests {
    static let blankReasons: [String?] = [nil, "", " ", "  \t\n  "]

    @Test(arguments: blankReasons)
    func freezeAndUnfreezeRequireAReason(reason: String?) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            try await expectRefusal(.reasonRequired, client) {
                try await world.services.restrictions.freeze(
                    customerID: tenant.customerID, FreezeRequest(reason: reason, agreementAccepted: true),
                    context: tenant.partner.context)
            }
            try await expectRefusal(.reasonRequired, client) {
                try await world.services.restrictions.freeze(
                    customerIDs: [tenant.customerID], FreezeRequest(reason: reason, agreementAccepted: true),
                    context: tenant.partner.context)
            }
            _ = try await world.freeze(tenant)
            try await expectRefusal(.reasonRequired, client) {
                try await world.services.restrictions.unfreeze(
                    customerID: tenant.customerID, UnfreezeRequest(reason: reason), context: tenant.partner.context)
            }
            #expect(try await client.status(of: tenant) == "frozen")
            try await assertInvariants(client)
        }
    }

    /// Too long after trimming: 257 characters, and 256 characters of which each is two code
    /// points (what the database's `length()` counts), and a NUL, which PostgreSQL text
    /// cannot hold. Each must be a clear `validation_failed`, not a database error.
    struct BadReason: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var text: String
    }

    static let badReasons: [BadReason] = [
        BadReason(testDescription: "257 characters", text: String(repeating: "x", count: 257)),
        BadReason(testDescription: "200 × e + U+0301 (400 code points)", text: String(repeating: "e\u{301}", count: 200)),
        BadReason(testDescription: "a NUL inside", text: "unpaid\u{0}invoices"),
    ]

    @Test(arguments: badReasons)
    func freezeRefusesAReasonThatIsTooLongOrUnstorable(_ badReason: BadReason) async throws {
        let reason = badReason.text
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            try await expectRefusal(.validationFailed, client) {
                try await world.freeze(tenant, reason: reason)
            }
            _ = try await world.freeze(tenant)
            try await expectRefusal(.validationFailed, client) {
                try await world.unfreeze(tenant, reason: reason)
            }
        }
    }

    @Test func theReasonIsTrimmedAnd256CharactersAreAllowed() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let reason = String(repeating: "r", count: 256)
            let result = try await world.freeze(tenant, reason: "  \n" + reason + " \t ")
            let stored = try await client.string(
                "SELECT reason FROM restrictions WHERE customer_id = $1 AND id = $2", [tenant.customerID, result.restrictionId])
            #expect(stored == reason)
            #expect(try await client.string(
                "SELECT reason FROM audit_events WHERE action = 'customer.restricted' AND customer_id = $1", [tenant.customerID]) == reason)
        }
    }

    @Test func freezingResourcesRequiresTheAgreement() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            for accepted in [nil, false] as [Bool?] {
                // The default type is purchase_and_resources, the seed's operation.
                try await expectRefusal(.agreementRequired, client) {
                    try await world.services.restrictions.freeze(
                        customerID: tenant.customerID, FreezeRequest(reason: "unpaid", agreementAccepted: accepted),
                        context: tenant.partner.context)
                }
            }
            try await expectRefusal(.agreementRequired, client) {
                try await world.services.restrictions.freeze(
                    customerIDs: [tenant.customerID], FreezeRequest(type: .purchaseAndResources, reason: "unpaid"),
                    context: tenant.partner.context)
            }
            #expect(try await client.states(of: tenant, .payPerUse) == ["active": 3])
        }
    }

    @Test func restrictingPurchasesNeedsNoAgreementAndRecordsNone() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let result = try await world.services.restrictions.freeze(
                customerID: tenant.customerID, FreezeRequest(type: .purchase, reason: "over budget"),
                context: tenant.partner.context)
            #expect(result.agreementVersion == nil)
            #expect(try await client.status(of: tenant) == "purchase_restricted")
            #expect(try await client.int(
                "SELECT count(*) FROM restrictions WHERE customer_id = $1 AND type = 'purchase' AND agreement_version IS NULL AND lifted_at IS NULL",
                [tenant.customerID]) == 1)
            try await assertInvariants(client)
        }
    }

    @Test(arguments: RestrictionType.allCases)
    func freezingARestrictedCustomerIsRefused(second: RestrictionType) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant, type: .purchase)
            try await expectRefusal(.customerAlreadyRestricted, client) {
                try await world.freeze(tenant, type: second)
            }
            #expect(try await client.status(of: tenant) == "purchase_restricted")
            try await assertInvariants(client)
        }
    }

    @Test func liftingAnUnrestrictedCustomerIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            for type in [nil, .purchase, .purchaseAndResources] as [RestrictionType?] {
                try await expectRefusal(.customerNotRestricted, client) { try await world.unfreeze(tenant, type: type) }
            }
            // Lifted once, it is not restricted any more.
            _ = try await world.freeze(tenant)
            _ = try await world.unfreeze(tenant)
            try await expectRefusal(.customerNotRestricted, client) { try await world.unfreeze(tenant) }
            try await assertInvariants(client)
        }
    }

    @Test(arguments: RestrictionType.allCases)
    func liftingAnotherTypeThanTheAppliedOneIsRefused(applied: RestrictionType) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            _ = try await world.freeze(tenant, type: applied)
            let other: RestrictionType = applied == .purchase ? .purchaseAndResources : .purchase
            try await expectRefusal(.freezeTypeMismatch, client) { try await world.unfreeze(tenant, type: other) }
            #expect(try await client.status(of: tenant) == applied.customerStatus.rawValue)
            let lifted = try await world.unfreeze(tenant, type: applied)
            #expect(lifted.status == .normal)
            #expect(try await client.status(of: tenant) == "normal")
            try await assertInvariants(client)
        }
    }

    static let badBatches: [String] = ["none", "eleven", "duplicate"]

    @Test(arguments: badBatches)
    func aBatchListsOneToTenDistinctCustomers(shape: String) async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 1, prepaid: 0)
            var ids: [CustomerID] = []
            switch shape {
            case "none": ids = []
            case "eleven":
                for _ in 0..<11 { ids.append(try await world.customer(of: tenant, payPerUse: 1, prepaid: 0).customerID) }
            default: ids = [tenant.customerID, tenant.customerID]
            }
            try await expectRefusal(.validationFailed, client) {
                try await world.services.restrictions.freeze(
                    customerIDs: ids, FreezeRequest(reason: "unpaid", agreementAccepted: true), context: tenant.partner.context)
            }
            try await expectRefusal(.validationFailed, client) {
                try await world.services.restrictions.unfreeze(
                    customerIDs: ids, UnfreezeRequest(reason: "paid"), context: tenant.partner.context)
            }
        }
    }

    /// Each customer of a batch is its own transaction; the answer lists every outcome in
    /// request order, and partial success is normal.
    @Test func aBatchReportsEachCustomersOutcome() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let first = try await world.tenant()
            let second = try await world.customer(of: first)
            let alreadyRestricted = try await world.customer(of: first)
            _ = try await world.freeze(alreadyRestricted, type: .purchase)
            let foreign = try await world.tenant()
            let missing = CustomerID.random()
            let ids = [first.customerID, alreadyRestricted.customerID, foreign.customerID, missing, second.customerID]
            let outcomes = try await world.services.restrictions.freeze(
                customerIDs: ids, FreezeRequest(reason: "unpaid", agreementAccepted: true), context: first.partner.context)
            #expect(outcomes.map(\.customerId) == ids)
            #expect(outcomes.map(\.outcome) == [.succeeded, .failed, .failed, .failed, .succeeded])
            #expect(outcomes.map { $0.error?.code } == [nil, "customer_already_restricted", "not_found", "not_found", nil])
            #expect(outcomes[0].result?.frozenResources == 3)
            #expect(try await client.status(of: first) == "frozen")
            #expect(try await client.status(of: second) == "frozen")
            #expect(try await client.status(of: alreadyRestricted) == "purchase_restricted")
            #expect(try await client.status(of: foreign) == "normal")
            #expect(try await client.states(of: foreign, .payPerUse) == ["active": 3])

            let lifted = try await world.services.restrictions.unfreeze(
                customerIDs: [first.customerID, foreign.customerID, alreadyRestricted.customerID],
                UnfreezeRequest(type: .purchaseAndResources, reason: "paid"), context: first.partner.context)
            #expect(lifted.map { $0.error?.code } == [nil, "not_found", "freeze_type_mismatch"])
            #expect(try await client.status(of: first) == "normal")
            #expect(try await client.status(of: second) == "frozen")
            #expect(try await client.status(of: alreadyRestricted) == "purchase_restricted")
            try await assertInvariants(client)
        }
    }

    @Test func aBatchOfTenIsAllowed() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let first = try await world.tenant(payPerUse: 1, prepaid: 1)
            var ids = [first.customerID]
            for _ in 0..<9 { ids.append(try await world.customer(of: first, payPerUse: 1, prepaid: 1).customerID) }
            let outcomes = try await world.services.restrictions.freeze(
                customerIDs: ids, FreezeRequest(reason: "unpaid", agreementAccepted: true), context: first.partner.context)
            #expect(outcomes.allSatisfy { $0.outcome == .succeeded })
            #expect(try await client.int("SELECT count(*) FROM customers WHERE status = 'frozen'") == 10)
            #expect(try await client.int("SELECT count(*) FROM audit_events WHERE action = 'customer.restricted'") == 10)
            try await assertInvariants(client)
        }
    }
}
