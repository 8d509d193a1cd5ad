import Foundation
@testable import PartnerAPI
import PartnerCore
import Synchronization
import Testing

/// The principal cache and revocation: a key revoked on this server stops working at once,
/// even when a lookup of it was under way as it was revoked.
@Suite("Principal cache")
struct PrincipalCacheTests {
    @Test func aLookupUnderWayAsTheKeyIsRevokedDoesNotCacheIt() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let token = tenant.partner.token
            let keyID = try #require(try await api.client.query(
                "SELECT id FROM api_keys WHERE token_hash = $1", [APIKeys.digest(token)]).first?.decode(0, as: UUID.self))
            // The first lookup reads the key from the database, then waits until the key has
            // been revoked before it answers: the race, made certain.
            let (revoked, revocation) = AsyncStream<Void>.makeStream()
            let lookups = Mutex(0)
            let services = api.services
            let cache = PrincipalCache(lifetimeSeconds: 60) { digest in
                let key = try await services.apiKeys.authenticate(digest: digest)
                if lookups.withLock({ count in count += 1; return count }) == 1 {
                    for await _ in revoked { break }
                }
                return key
            }
            async let inFlight = cache.key(for: token)
            try await Task.sleep(for: .milliseconds(200))
            try await services.apiKeys.revoke(keyID: keyID, context: api.operatorContext)
            cache.forget(keyID: keyID)
            revocation.yield()
            #expect(try await inFlight?.keyID == keyID, "the lookup read the key before the revocation")
            #expect(try await cache.key(for: token) == nil, "the revoked key was not cached by the late lookup")
            #expect(lookups.withLock { $0 } == 2)
        }
    }
}
