import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// The operator's side (DESIGN §1, §4 "Operator"): tenants, bulk resources, API keys and the
/// caller's own settings — each change audited, bad input a `validation_failed`.
@Suite("Provisioning, API keys and settings", .serialized)
struct ProvisioningTests {
    @Test func bulkProvisioningInsertsResourcesWithTheirDataInOneGo() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            let auditBefore = try await client.int("SELECT count(*) FROM audit_events")
            #expect(try await world.provision(tenant, .payPerUse, count: 1_500, dataBytes: 4096) == 1_500)
            #expect(try await client.int(
                "SELECT count(*) FROM resource_data d JOIN resources r ON r.customer_id = d.customer_id AND r.id = d.resource_id WHERE r.customer_id = $1 AND d.size_bytes = 4096",
                [tenant.customerID]) == 1_500)
            #expect(try await client.int("SELECT count(*) FROM audit_events") == auditBefore + 1)
            let one = try await world.services.provisioning.createResources(
                customerID: tenant.customerID, ResourceProvisioning(type: "evs.disk", billingMode: .prepaid),
                context: world.operatorContext)
            #expect(one.created == 1)
            let id = try #require(one.id)
            // A prepaid resource without a term runs for a month.
            #expect(try await client.int(
                "SELECT count(*) FROM resources WHERE id = $1 AND expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days'",
                [id]) == 1)
        }
    }

    /// The largest bulk the API takes (10^5, the size of the freeze target in DESIGN §6) is
    /// one statement that completes.
    @Test func theLargestBulkIsAccepted() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant(payPerUse: 0, prepaid: 0)
            #expect(try await world.provision(tenant, .payPerUse, count: Provisioning.maximumBulkCount) == 100_000)
            #expect(try await client.int("SELECT count(*) FROM resource_data WHERE customer_id = $1", [tenant.customerID]) == 100_000)
        }
    }

    @Test func badProvisioningIsAValidationFailure() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let provisioning = world.services.provisioning
            let context = world.operatorContext
            let bad: [ResourceProvisioning] = [
                ResourceProvisioning(type: "ecs", billingMode: .payPerUse, count: 0),
                ResourceProvisioning(type: "ecs", billingMode: .payPerUse, count: 100_001),
                ResourceProvisioning(type: "ecs", billingMode: .payPerUse, dataBytes: -1),
                ResourceProvisioning(type: "ecs", billingMode: .payPerUse, expiresAt: Date()),
                ResourceProvisioning(type: " ", billingMode: .prepaid),
            ]
            for request in bad {
                try await expectRefusal(.validationFailed, client) {
                    try await provisioning.createResources(customerID: tenant.customerID, request, context: context)
                }
            }
            for name in ["", "   ", String(repeating: "n", count: 201), String(repeating: "e\u{301}", count: 150), "tab\there"] {
                try await expectRefusal(.validationFailed, client) {
                    try await provisioning.createDistributor(name: name, retentionSeconds: nil, context: context)
                }
            }
            for seconds in [-1, 31_536_001] {
                try await expectRefusal(.validationFailed, client) {
                    try await provisioning.createDistributor(name: "D", retentionSeconds: seconds, context: context)
                }
            }
            try await expectRefusal(.validationFailed, client) {
                try await provisioning.updatePartner(id: tenant.partnerID, status: nil, retentionSeconds: nil, context: context)
            }
            try await expectRefusal(.notFound, client) {
                try await provisioning.createResources(
                    customerID: .random(), ResourceProvisioning(type: "ecs", billingMode: .payPerUse), context: context)
            }
            try await expectRefusal(.notFound, client) {
                try await provisioning.createCustomer(partnerID: .random(), name: "C", context: context)
            }
        }
    }

    /// Keys are random, shown once and stored as SHA-256 only; a revoked key stops working.
    @Test func apiKeysAreStoredHashedAndRevocable() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let keys = world.services.apiKeys
            let created = try await keys.create(kind: .customer, principalID: tenant.customerID.uuid, context: world.operatorContext)
            #expect(created.token.hasPrefix("pc_") && created.token.count >= 40)
            let stored = try await client.query(
                "SELECT token_hash = sha256(convert_to($2, 'UTF8')), prefix FROM api_keys WHERE id = $1", [created.id, created.token]
            ).single()
            #expect(try stored.decode(0, as: Bool.self))
            #expect(try stored.decode(1, as: String.self) == String(created.token.prefix(10)))
            #expect(try await client.int("SELECT count(*) FROM api_keys k WHERE k::text LIKE '%' || $1 || '%'", [created.token]) == 0)
            let principal = try #require(try await keys.authenticate(token: created.token))
            #expect(principal == tenant.customer.principal)
            #expect(try await keys.authenticate(token: created.token + "x") == nil)
            try await keys.revoke(keyID: created.id, context: world.operatorContext)
            #expect(try await keys.authenticate(token: created.token) == nil)
            #expect(try await client.int(
                "SELECT count(*) FROM audit_events WHERE action IN ('api_key.created', 'api_key.revoked') AND target_id = $1", [created.id]) == 2)
            try await expectRefusal(.notFound, client) {
                try await keys.create(kind: .partner, principalID: UUID(), context: world.operatorContext)
            }
        }
    }

    @Test func settingsBelongToTheCallerAndAreAudited() async throws {
        try await withTestDatabase { (_, client) async throws in
            let world = try await World.build(client: client)
            let tenant = try await world.tenant()
            let settings = world.services.settings
            #expect(try await settings.get(tenant.partner.principal).verificationCodeRequired == false)
            _ = try await settings.update(verificationCodeRequired: true, context: tenant.partner.context)
            #expect(try await settings.get(tenant.partner.principal).verificationCodeRequired)
            #expect(try await settings.get(tenant.distributor.principal).verificationCodeRequired == false)
            #expect(try await client.int(
                "SELECT count(*) FROM partners WHERE id = $1 AND verification_code_required", [tenant.partnerID]) == 1)
            #expect(try await client.int(
                "SELECT count(*) FROM audit_events WHERE action = 'settings.updated' AND target_id = $1", [tenant.partnerID]) == 1)
            for principal in [tenant.customer.principal, world.operatorContext.principal] {
                try await expectRefusal(.forbidden, client) {
                    try await settings.update(verificationCodeRequired: true, context: principal.context)
                }
            }
        }
    }

    /// The demo world is built through the same services and keeps every invariant.
    @Test func theDemoSeedBuildsAConsistentWorld() async throws {
        try await withTestDatabase { (_, client) async throws in
            let services = PartnerServices(client: client, codeDelivery: .response)
            let keys = try await DemoSeed(services: services).run()
            #expect(keys.map(\.role) == ["operator", "distributor", "partner", "partner-without-permission", "customer"])
            for key in keys {
                let principal = try #require(try await services.apiKeys.authenticate(token: key.token))
                #expect(principal.id == key.id)
            }
            #expect(try await client.int("SELECT count(*) FROM customers") == 5)
            #expect(try await client.int("SELECT count(*) FROM resources") == 50)
            #expect(try await client.int("SELECT count(*) FROM freeze_permission_grants WHERE revoked_at IS NULL") == 1)
            try await assertInvariants(client)
        }
    }

    /// Database outages become `service_unavailable`; a bug is `internal_error`, and no
    /// answer leaks internals.
    @Test func unexpectedErrorsAreInternalAndLeakNothing() {
        let lost = PostgresError(code: .connectionLost, message: "server closed the connection")
        #expect(PartnerError.from(lost).code == .serviceUnavailable)
        let refused = PartnerError(.forbidden, "no")
        #expect(PartnerError.from(refused) == refused)
        let other = PartnerError.from(PostgresError(code: .server, message: "relation \"secret\" does not exist", sqlState: "42P01"))
        #expect(other.code == .internalError)
        #expect(!other.message.contains("secret"))
    }
}
