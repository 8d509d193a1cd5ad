import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// DESIGN §2 "Verification codes": required when the actor's setting is on; six digits,
/// stored hashed, five minutes, single use, newest replaces older, five wrong tries lock it,
/// and a resend is rate limited.
@Suite("Verification codes", .serialized)
struct VerificationCodeTests {
    /// A world whose partner holds the grant and has the code setting on.
    static func setUp(_ client: PostgresClient, resendInterval: TimeInterval = 0) async throws -> (World, Tenant) {
        let world = try await World.build(client: client, codeResendInterval: resendInterval)
        let tenant = try await world.tenant(partnerHoldsGrant: true)
        try await world.requireCodes(for: tenant.partner.principal)
        return (world, tenant)
    }

    static func issue(_ world: World, _ principal: Principal, _ purpose: VerificationPurpose = .freeze) async throws -> String {
        let issued = try await world.services.verificationCodes.issue(for: principal, purpose: purpose)
        return try #require(issued.code)
    }

    static func failedAttempts(_ client: PostgresClient, _ principal: Principal, _ purpose: VerificationPurpose = .freeze) async throws -> Int {
        try await client.int(
            "SELECT failed_attempts FROM verification_codes WHERE principal_kind = $1 AND principal_id = $2 AND purpose = $3",
            [principal.kind.rawValue, principal.id, purpose.rawValue])
    }

    /// A six-digit code that is not `code`.
    static func wrong(_ code: String) -> String {
        String(format: "%06d", (Int(code)! + 1) % 1_000_000)
    }

    @Test func aFreezeWithoutACodeIsRefusedWhenTheSettingIsOn() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            for code in [nil, "", "   "] as [String?] {
                try await expectRefusal(.verificationCodeRequired, client) { try await world.freeze(tenant, code: code) }
            }
            // The distributor's own setting governs the distributor.
            let own = try await world.tenant(partnerHoldsGrant: false)
            try await world.requireCodes(for: own.distributor.principal)
            try await expectRefusal(.verificationCodeRequired, client) { try await world.freeze(own, as: own.distributor.principal) }
            let code = try await Self.issue(world, own.distributor.principal)
            _ = try await world.freeze(own, as: own.distributor.principal, code: code)
            #expect(try await client.status(of: own) == "frozen")
        }
    }

    @Test func aCorrectCodeFreezesOnceAndIsThenUsedUp() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let second = try await world.customer(of: tenant)
            let code = try await Self.issue(world, tenant.partner.principal)
            #expect(code.count == 6 && code.allSatisfy(\.isNumber))
            _ = try await world.freeze(tenant, code: code)
            #expect(try await client.status(of: tenant) == "frozen")
            #expect(try await client.int(
                "SELECT count(*) FROM verification_codes WHERE principal_id = $1 AND consumed_at IS NOT NULL", [tenant.partnerID]) == 1)
            try await expectRefusal(.verificationCodeInvalid, client) { try await world.freeze(second, code: code) }
            #expect(try await client.status(of: second) == "normal")
        }
    }

    @Test func codesAreStoredOnlyAsAHash() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let code = try await Self.issue(world, tenant.partner.principal)
            let row = try await client.query(
                "SELECT length(code_hash), position(convert_to($2, 'UTF8') IN code_hash), expires_at - created_at FROM verification_codes WHERE principal_id = $1",
                [tenant.partnerID, code]).single()
            #expect(try row.decode(0, as: Int.self) == 32)
            #expect(try row.decode(1, as: Int.self) == 0)
            #expect(try row.decode(2, as: String.self) == "PT5M")
        }
    }

    @Test func aCodeIsBoundToItsPurpose() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let freezeCode = try await Self.issue(world, tenant.partner.principal, .freeze)
            _ = try await world.freeze(tenant, code: freezeCode)
            // No unfreeze code was requested yet.
            try await expectRefusal(.verificationCodeInvalid, client) { try await world.unfreeze(tenant, code: freezeCode) }
            let unfreezeCode = try await Self.issue(world, tenant.partner.principal, .unfreeze)
            _ = try await world.unfreeze(tenant, code: unfreezeCode)
            #expect(try await client.status(of: tenant) == "normal")
        }
    }

    /// The failed attempt is committed even though the freeze itself is refused.
    @Test func aWrongCodeCountsAnAttemptAndChangesNothingElse() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let code = try await Self.issue(world, tenant.partner.principal)
            for attempt in 1...2 {
                try await expectRefusal(.verificationCodeInvalid, client, includingCodes: false) {
                    try await world.freeze(tenant, code: Self.wrong(code))
                }
                #expect(try await Self.failedAttempts(client, tenant.partner.principal) == attempt)
            }
            // Not six digits counts too.
            try await expectRefusal(.verificationCodeInvalid, client, includingCodes: false) {
                try await world.freeze(tenant, code: "12345a")
            }
            #expect(try await Self.failedAttempts(client, tenant.partner.principal) == 3)
            _ = try await world.freeze(tenant, code: code)
            #expect(try await client.status(of: tenant) == "frozen")
        }
    }

    @Test func fiveWrongTriesLockTheCode() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let code = try await Self.issue(world, tenant.partner.principal)
            for _ in 1...5 {
                try await expectRefusal(.verificationCodeInvalid, client, includingCodes: false) {
                    try await world.freeze(tenant, code: Self.wrong(code))
                }
            }
            #expect(try await Self.failedAttempts(client, tenant.partner.principal) == 5)
            // Now even the right code is refused, and trying again changes nothing.
            try await expectRefusal(.verificationCodeLocked, client) { try await world.freeze(tenant, code: code) }
            try await expectRefusal(.verificationCodeLocked, client) {
                try await world.services.restrictions.freeze(
                    customerIDs: [tenant.customerID], FreezeRequest(reason: "x", agreementAccepted: true, verificationCode: code),
                    context: tenant.partner.context)
            }
            #expect(try await client.status(of: tenant) == "normal")
            // A new code unlocks.
            let fresh = try await Self.issue(world, tenant.partner.principal)
            #expect(try await Self.failedAttempts(client, tenant.partner.principal) == 0)
            _ = try await world.freeze(tenant, code: fresh)
            #expect(try await client.status(of: tenant) == "frozen")
        }
    }

    @Test func theNewestCodeReplacesOlderOnes() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client, resendInterval: 0)
            let older = try await Self.issue(world, tenant.partner.principal)
            let newer = try await Self.issue(world, tenant.partner.principal)
            #expect(try await client.int("SELECT count(*) FROM verification_codes WHERE principal_id = $1", [tenant.partnerID]) == 1)
            if older != newer {
                try await expectRefusal(.verificationCodeInvalid, client, includingCodes: false) {
                    try await world.freeze(tenant, code: older)
                }
            }
            _ = try await world.freeze(tenant, code: newer)
            #expect(try await client.status(of: tenant) == "frozen")
        }
    }

    @Test func anExpiredCodeIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let code = try await Self.issue(world, tenant.partner.principal)
            // Five minutes pass.
            try await client.query(
                "UPDATE verification_codes SET expires_at = now() - interval '1 second' WHERE principal_id = $1", [tenant.partnerID])
            try await expectRefusal(.verificationCodeInvalid, client) { try await world.freeze(tenant, code: code) }
            #expect(try await client.status(of: tenant) == "normal")
        }
    }

    @Test func aFreezeWithoutAnyIssuedCodeIsRefused() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            try await expectRefusal(.verificationCodeInvalid, client) { try await world.freeze(tenant, code: "123456") }
        }
    }

    @Test func reissuingWithinTheResendIntervalIsRateLimited() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client, resendInterval: 10)
            let code = try await Self.issue(world, tenant.partner.principal)
            try await expectRefusal(.rateLimited, client) {
                try await world.services.verificationCodes.issue(for: tenant.partner.principal, purpose: .freeze)
            }
            // The first code still works; once used, a new one may be issued at once.
            _ = try await world.freeze(tenant, code: code)
            _ = try await Self.issue(world, tenant.partner.principal)
            // Another purpose is its own code.
            _ = try await Self.issue(world, tenant.partner.principal, .unfreeze)
        }
    }

    @Test func withoutAResendIntervalACodeMayBeReissuedAtOnce() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client, resendInterval: 0)
            let first = try await world.services.verificationCodes.issue(for: tenant.partner.principal, purpose: .freeze)
            let second = try await world.services.verificationCodes.issue(for: tenant.partner.principal, purpose: .freeze)
            #expect(first.id != second.id)
            #expect(try await client.string(
                "SELECT id::text FROM verification_codes WHERE principal_id = $1", [tenant.partnerID]) == second.id.uuidString.lowercased())
        }
    }

    @Test func onlyPartnersAndDistributorsGetCodes() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            for principal in [tenant.customer.principal, world.operatorContext.principal] {
                try await expectRefusal(.forbidden, client) {
                    try await world.services.verificationCodes.issue(for: principal, purpose: .freeze)
                }
            }
        }
    }

    /// A batch checks (and uses up) the code once for all its customers.
    @Test func aBatchChecksTheCodeOnce() async throws {
        try await withTestDatabase { (_, client) async throws in
            let (world, tenant) = try await Self.setUp(client)
            let second = try await world.customer(of: tenant)
            try await expectRefusal(.verificationCodeRequired, client) {
                try await world.services.restrictions.freeze(
                    customerIDs: [tenant.customerID, second.customerID], FreezeRequest(reason: "x", agreementAccepted: true),
                    context: tenant.partner.context)
            }
            let code = try await Self.issue(world, tenant.partner.principal)
            let outcomes = try await world.services.restrictions.freeze(
                customerIDs: [tenant.customerID, second.customerID],
                FreezeRequest(reason: "x", agreementAccepted: true, verificationCode: code), context: tenant.partner.context)
            #expect(outcomes.map(\.outcome) == [.succeeded, .succeeded])
            #expect(try await client.int("SELECT count(*) FROM customers WHERE status = 'frozen'") == 2)
        }
    }
}
