import Foundation
import PartnerCore
import Testing

/// A distributor's resellers and the freeze permission it grants and revokes, with history.
@Suite("Freeze permission")
struct FreezePermissionTests {
    @Test func distributorListsItsPartnersWithTheirGrantState() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            let granted = try await api.world.partner(of: distributor, granted: true)
            let plain = try await api.world.partner(of: distributor, granted: false)
            let result = try await api.call(.get, "/v1/partners", as: distributor.token)
            expectSuccess(result, 200)
            let items = try #require(result.json["items"]?.array)
            #expect(Set(items.compactMap { $0["id"]?.uuid }) == [granted.id.uuid, plain.id.uuid])
            let grantedItem = try #require(items.first { $0["id"]?.uuid == granted.id.uuid })
            let plainItem = try #require(items.first { $0["id"]?.uuid == plain.id.uuid })
            #expect(grantedItem["freeze_permission"]?["granted"]?.bool == true)
            #expect(grantedItem["freeze_permission"]?["granted_at"]?.string != nil)
            #expect(plainItem["freeze_permission"]?["granted"]?.bool == false)
            #expect(plainItem["freeze_permission"]?["granted_at"] == nil)
            #expect(result.json["next_cursor"]?.isNull == true)
        }
    }

    @Test func partnerListPagesWithAnOpaqueCursor() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            var made: Set<UUID> = []
            for _ in 0..<3 { made.insert(try await api.world.partner(of: distributor, granted: false).id.uuid) }
            var seen: [UUID] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await api.call(.get, "/v1/partners?limit=2\(query)", as: distributor.token)
                expectSuccess(page, 200)
                seen += (page.json["items"]?.array ?? []).compactMap { $0["id"]?.uuid }
                cursor = page.json["next_cursor"]?.string
                pages += 1
            } while cursor != nil && pages < 5
            #expect(pages == 2)
            #expect(seen.count == 3 && Set(seen) == made)
        }
    }

    @Test func grantThenRevokeKeepsHistoryAuditAndEvents() async throws {
        try await withAPI { (api) async throws in
            let distributor = try await api.world.distributor()
            let partner = try await api.world.partner(of: distributor, granted: false)
            let path = "/v1/partners/\(partner.id)/freeze-permission"

            let granted = try await api.call(.put, path, as: distributor.token)
            expectSuccess(granted, 200)
            #expect(granted.json["granted"]?.bool == true)
            #expect(granted.json["current"]?["granted_by"]?["kind"]?.string == "distributor")
            #expect(granted.json["current"]?["granted_by"]?["id"]?.uuid == distributor.id.uuid)
            #expect(granted.json["history"]?.array?.count == 1)
            #expect(try await api.client.int(
                "SELECT count(*) FROM freeze_permission_grants WHERE partner_id = $1 AND revoked_at IS NULL", [partner.id]) == 1)

            // Granting again changes nothing.
            let before = try await api.snapshot()
            expectSuccess(try await api.call(.put, path, as: distributor.token, json: "{}"), 200)
            #expect(try await api.snapshot() == before)

            let revoked = try await api.call(.delete, path, as: distributor.token)
            expectSuccess(revoked, 200)
            #expect(revoked.json["granted"]?.bool == false)
            #expect(revoked.json["current"] == nil)
            let history = try #require(revoked.json["history"]?.array)
            try #require(history.count == 1)
            #expect(history[0]["revoked_by"]?["id"]?.uuid == distributor.id.uuid)
            #expect(history[0]["revoked_at"]?.string != nil)

            // Revoking again changes nothing.
            let afterRevoke = try await api.snapshot()
            expectSuccess(try await api.call(.delete, path, as: distributor.token), 200)
            #expect(try await api.snapshot() == afterRevoke)

            #expect(try await api.client.int("""
                SELECT count(*) FROM audit_events WHERE target_id = $1
                  AND action IN ('freeze_permission.granted', 'freeze_permission.revoked')
                """, [partner.id]) == 2)
            #expect(try await api.client.int(
                "SELECT count(*) FROM outbox_events WHERE type = 'grant.changed' AND data->>'partner_id' = $1", [partner.id.uuidString.lowercased()]) == 2)

            // A second grant starts a new entry: history newest first.
            expectSuccess(try await api.call(.put, path, as: distributor.token), 200)
            let state = try await api.call(.get, path, as: partner.token)
            expectSuccess(state, 200)
            #expect(state.json["granted"]?.bool == true)
            #expect(state.json["history"]?.array?.count == 2)
            #expect(state.json["history"]?[0]?["revoked_at"] == nil)
            #expect(state.json["history"]?[1]?["revoked_at"] != nil)
        }
    }

    @Test func refusals() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: false)
            let path = "/v1/partners/\(tenant.partner.id)/freeze-permission"
            let before = try await api.snapshot()
            expectError(try await api.call(.put, "/v1/partners/\(UUID())/freeze-permission", as: tenant.distributor.token), 404, "not_found")
            expectError(try await api.call(.delete, "/v1/partners/\(UUID())/freeze-permission", as: tenant.distributor.token), 404, "not_found")
            expectError(try await api.call(.get, "/v1/partners/\(UUID())/freeze-permission", as: tenant.distributor.token), 404, "not_found")
            expectError(try await api.call(.get, "/v1/partners/xyz/freeze-permission", as: tenant.distributor.token), 404, "not_found")
            expectError(try await api.call(.put, path, as: tenant.partner.token), 403, "forbidden")
            expectError(try await api.call(.get, path, as: tenant.customer.token), 404, "not_found")
            expectError(try await api.call(.get, "/v1/partners?limit=0", as: tenant.distributor.token), 422, "validation_failed")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func aSuspendedDistributorCannotGrantOrRevoke() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: true)
            _ = try await api.services.provisioning.updateDistributor(
                id: tenant.distributor.id, status: .suspended, retentionSeconds: nil, context: api.operatorContext)
            let before = try await api.snapshot()
            let path = "/v1/partners/\(tenant.partner.id)/freeze-permission"
            expectError(try await api.call(.delete, path, as: tenant.distributor.token), 403, "actor_suspended")
            expectError(try await api.call(.put, path, as: tenant.distributor.token), 403, "actor_suspended")
            #expect(try await api.snapshot() == before)
        }
    }

    /// DESIGN §2: revoking does not lift restrictions in place; the distributor takes them over.
    @Test func revokingKeepsRestrictionsAndHandsThemToTheDistributor() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant(partnerHoldsGrant: true)
            try await api.world.freeze(tenant, as: tenant.partner.principal, reason: "set-up")
            expectSuccess(try await api.call(
                .delete, "/v1/partners/\(tenant.partner.id)/freeze-permission", as: tenant.distributor.token), 200)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "frozen")
            #expect(try await api.client.resourceStates(tenant.customer.id)["pay_per_use.frozen"] == 3)

            let unfreeze = #"{"reason":"taken over"}"#
            expectError(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.partner.token, json: unfreeze),
                        403, "permission_not_granted")
            expectSuccess(try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/unfreeze", as: tenant.distributor.token, json: unfreeze), 200)
            #expect(try await api.client.customerStatus(tenant.customer.id) == "normal")
        }
    }
}
