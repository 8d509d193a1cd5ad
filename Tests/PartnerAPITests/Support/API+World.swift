import Foundation
import PartnerCore
import Postgres
import TestSupport

extension API {
    /// The test world (TestSupport's, the core tests' too) over this API's own services, so
    /// its caches see what a test builds; reads and SQL set-up go through the admin client.
    var world: World { World(client: client, services: services, operatorID: operatorID) }

    /// Releases the given frozen resources as the retention sweep would once their retention
    /// has passed: moves their deadline into the past, then runs the sweep. Moving the
    /// deadline stands in for time passing, and by then the server's refusal cache would have
    /// let go of them (it keeps a frozen resource's refusal no longer than its retention), so
    /// their customers are forgotten there too.
    func release(_ resourceIDs: [ResourceID]) async throws {
        var customers: Set<CustomerID> = []
        for id in resourceIDs {
            let rows = try await client.query(
                "UPDATE resources SET retention_until = now() - interval '1 second', frozen_at = now() - interval '2 seconds' WHERE id = $1 AND state = 'frozen' RETURNING customer_id",
                [id])
            for row in rows { customers.insert(try row.decode(0)) }
        }
        services.refusals.forget(customerIDs: customers)
        _ = try await RetentionSweep(client: client).run(.init(batchSize: 100))
    }
}
