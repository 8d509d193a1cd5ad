import Foundation
import Postgres
import TestSupport
import Testing

@Suite("The connection pool")
struct PoolTests {
    @Test func twoHundredTasksOverFourConnections() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 4) { (_, client) async throws in
            try await client.query("CREATE TABLE hits (task int)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<200 {
                    group.addTask {
                        try await client.withTransaction { connection in
                            try connection.query("INSERT INTO hits VALUES ($1)", [task])
                            _ = try connection.query("SELECT pg_sleep(0.001)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.query("SELECT count(DISTINCT task) FROM hits").single().decode(0, as: Int.self) == 200)
            let statistics = client.statistics
            #expect(statistics.open <= 4)
            #expect(statistics.leased == 0)
            #expect(statistics.waiting == 0)
        }
    }

    @Test func waitingTooLongIsAPoolTimeout() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let client = try database.client(maximumConnections: 1, acquireTimeout: .milliseconds(200))
        async let slow: Void = client.withConnection { _ = try $0.query("SELECT pg_sleep(1)") }
        try await Task.sleep(for: .milliseconds(100))
        let error = try await #require(throws: PostgresError.self) { try await client.query("SELECT 1") }
        #expect(error.code == .poolTimeout)
        #expect(error.isUnavailable)
        try await slow
        await client.shutdown()
        try await database.drop()
    }

    /// The queue has one timer for its oldest waiter; after it fires it must be armed again
    /// for the next one, or a later waiter would wait for as long as the connection is busy.
    @Test func eachWaiterTimesOutAtItsOwnDeadline() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let client = try database.client(maximumConnections: 1, acquireTimeout: .milliseconds(300))
        // The moment the slow statement ended, taken before its connection goes back.
        async let busyUntil = client.withConnection { connection in
            // Long against the 300 ms timeout: in a fresh clone's first parallel burst the
            // timer has fired more than a second late, and a waiter it has not reached yet is
            // handed the connection when it comes free.
            _ = try connection.query("SELECT pg_sleep(3)")
            return ContinuousClock.now
        }
        try await Task.sleep(for: .milliseconds(100))
        /// The code of the error a statement failed with (nil when it ran), and when.
        @Sendable func failure(_ sql: String) async -> (code: PostgresError.Code?, at: ContinuousClock.Instant) {
            do {
                _ = try await client.query(sql)
                return (nil, .now)
            } catch {
                return ((error as? PostgresError)?.code ?? .protocolViolation, .now)
            }
        }
        async let first = failure("SELECT 1")
        try await Task.sleep(for: .milliseconds(150))
        async let second = failure("SELECT 2")
        let (firstWaiter, secondWaiter, _) = (await first, await second, try await busyUntil)
        // Both gave up: a waiter the timer never reached would have been handed the
        // connection when it came free (release does not check deadlines) and run its
        // statement. When they gave up is not asserted: under a loaded parallel run the event
        // loop fired the second timeout 185 ms after the slow statement ended, still before
        // its connection was handed back.
        #expect(firstWaiter.code == .poolTimeout)
        #expect(secondWaiter.code == .poolTimeout)
        #expect(client.statistics.waiting == 0)
        #expect(try await client.query("SELECT 3").single().decode(0, as: Int.self) == 3)
        await client.shutdown()
        try await database.drop()
    }

    /// Every pooled session is killed server-side; the next work gets fresh connections and
    /// succeeds without the caller doing anything.
    @Test func recoversAfterEveryConnectionIsTerminated() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 4) { (database, client) async throws in
            try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await client.withConnection { connection in
                        _ = try connection.query("SELECT pg_sleep(0.05)")
                        return connection.backendPID
                    } }
                }
                for try await _ in group {}
            }
            #expect(client.statistics.idle >= 1)
            let killer = try database.connect()
            let killed = try killer.query(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            #expect(try killed.single().decode(0, as: Int.self) >= 1)
            killer.close()
            try await Task.sleep(for: .milliseconds(100))
            for value in 0..<10 {
                #expect(try await client.query("SELECT $1::int", [value]).single().decode(0, as: Int.self) == value)
            }
            try await client.withTransaction { _ = try $0.query("SELECT 1") }
            #expect(await client.isReady())
        }
    }

    @Test func unreachableDatabaseIsUnavailableNotReady() async throws {
        let configuration = try PostgresConfiguration(url: "postgresql://nobody@127.0.0.1:1/none", connectTimeout: 1)
        let client = PostgresClient(configuration: .init(connection: configuration, maximumConnections: 2))
        let error = try await #require(throws: PostgresError.self) { try await client.query("SELECT 1") }
        #expect(error.isUnavailable)
        #expect(await client.isReady() == false)
        #expect(client.statistics.open == 0)
        await client.shutdown()
    }
}
