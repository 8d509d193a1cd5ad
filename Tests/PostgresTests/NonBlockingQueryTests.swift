import Foundation
import Postgres
import TestSupport
import Testing

/// `PostgresClient.query` sends its statement without blocking and the reactor reads the
/// answer. These prove the paths a blocking call never had: an answer read in several
/// wake-ups, output left unsent, a task cancelled mid-statement, a session killed
/// mid-statement, and many statements in flight at once.
@Suite("Statements sent without blocking")
struct NonBlockingQueryTests {
    /// The pid of the session running `pg_sleep`, seen from another session.
    private func sleeperPID(_ database: TestDatabase) async throws -> Int32 {
        let observer = try database.connect()
        defer { observer.close() }
        for _ in 0..<100 {
            let rows = try observer.query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep%'")
            if let row = rows.first { return try row.decode(0, as: Int32.self) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw PostgresError(code: .protocolViolation, message: "the sleeping statement never showed up")
    }

    /// A 20 s `pg_sleep` sent through `client`, once the server runs it, and its session's pid.
    private func sleeping(
        _ client: PostgresClient, _ database: TestDatabase
    ) async throws -> (Task<PostgresRows, any Error>, pid: Int32) {
        let task = Task { try await client.query("SELECT pg_sleep(20)") }
        return (task, try await sleeperPID(database))
    }

    private func activeSleepers(_ database: TestDatabase) throws -> Int {
        let observer = try database.connect()
        defer { observer.close() }
        return try observer.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep%'"
        ).single().decode(0, as: Int.self)
    }

    /// Cancelling the task interrupts the statement on the server at once (57014), and the
    /// session it ran on is not lent out again: the next statement runs on another backend.
    @Test func cancellingTheTaskCancelsTheStatementAndRetiresTheSession() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 1) { (database, client) async throws in
            let (sleeping, pid) = try await sleeping(client, database)
            let started = ContinuousClock.now
            sleeping.cancel()
            let error = try await #require(throws: PostgresError.self) { try await sleeping.value }
            #expect(error.sqlState == "57014")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try activeSleepers(database) == 0)
            let next = try await client.query("SELECT pg_backend_pid()").single().decode(0, as: Int32.self)
            #expect(next != pid)
            #expect(client.statistics.leased == 0)
            #expect(client.statistics.open == 1)
        }
    }

    /// A retired session says nothing about the others: the idle one stays in the pool
    /// (only a lost session makes the pool presume its idle sessions dead).
    @Test func aCancelLeavesTheOtherIdleSessionAlone() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 2) { (database, client) async throws in
            async let first = client.query("SELECT pg_backend_pid(), pg_sleep(0.2)")
            async let second = client.query("SELECT pg_backend_pid(), pg_sleep(0.2)")
            let pids: Set<Int32> = [try await first.single().decode(0), try await second.single().decode(0)]
            #expect(pids.count == 2)
            let (sleeping, pid) = try await sleeping(client, database)
            sleeping.cancel()
            _ = try? await sleeping.value
            #expect(client.statistics.open == 1)
            let next = try await client.query("SELECT pg_backend_pid()").single().decode(0, as: Int32.self)
            #expect(pids.subtracting([pid]).contains(next))
        }
    }

    /// A statement timeout ends the statement, not the session: the same backend answers next.
    @Test func aStatementTimeoutKeepsTheSession() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let client = try database.client(maximumConnections: 1, statementTimeout: .milliseconds(200))
        let before = try await client.query("SELECT pg_backend_pid()").single().decode(0, as: Int32.self)
        let error = try await #require(throws: PostgresError.self) { try await client.query("SELECT pg_sleep(5)") }
        #expect(error.isStatementTimeout)
        let after = try await client.query("SELECT pg_backend_pid()").single().decode(0, as: Int32.self)
        #expect(after == before)
        await client.shutdown()
        try await database.drop()
    }

    /// The server ends the session in the middle of a statement (what a restart does to
    /// every session): the statement fails as unavailable, the dead session leaves the pool,
    /// and the next statement gets a fresh one.
    @Test func aSessionKilledMidStatementIsReplaced() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 1) { (database, client) async throws in
            // The first statement of a new session: a failure is reported, not retried.
            let (sleeping, pid) = try await sleeping(client, database)
            let killer = try database.connect()
            _ = try killer.query("SELECT pg_terminate_backend($1)", [pid])
            killer.close()
            let error = try await #require(throws: PostgresError.self) { try await sleeping.value }
            #expect(error.isUnavailable)
            #expect(client.statistics.open == 0)
            let next = try await client.query("SELECT pg_backend_pid()").single().decode(0, as: Int32.self)
            #expect(next != pid)
            #expect(client.statistics.open == 1)
            #expect(client.statistics.leased == 0)
        }
    }

    /// An answer larger than one socket read arrives over several wake-ups; a parameter larger
    /// than the socket buffer leaves output unsent until the socket is writable again.
    @Test func largeAnswersAndLargeParameters() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 2) { (_, client) async throws in
            let rows = try await client.query("SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g")
            #expect(rows.count == 100_000)
            #expect(try rows.last?.decode(0, as: Int.self) == 100_000)
            // Built in one call: a per-byte closure over 8 MiB kept a cooperative thread busy
            // for seconds in a debug build and starved the pool's timing tests beside it.
            var bytes = Data(repeating: 0xA5, count: 8 << 20)
            bytes[12_345] = 0x5A
            let length = try await client.query("SELECT length($1::bytea), md5($1::bytea)", [bytes]).single()
            #expect(try length.decode(0, as: Int.self) == bytes.count)
            let sent = try await client.query("SELECT md5($1::bytea)", [bytes]).single().decode(0, as: String.self)
            #expect(try length.decode(1, as: String.self) == sent)
        }
    }

    /// Many statements in flight over few sessions, every tenth one failing: each caller gets
    /// its own answer, a failed statement leaves its session usable, and the pool ends idle.
    @Test func manyStatementsInFlightWithFailuresAmongThem() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 4) { (_, client) async throws in
            let results = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for value in 0..<400 {
                    group.addTask {
                        do {
                            let rows = try await client.query("SELECT $1::int * 2 / ($1::int % 10)", [value])
                            return (value, try rows.single().decode(0, as: Int.self))
                        } catch let error as PostgresError where error.sqlState == "22012" {
                            return (value, nil)
                        }
                    }
                }
                return try await group.reduce(into: [Int: Int?]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 400)
            for (value, answer) in results {
                #expect(answer == (value % 10 == 0 ? nil : value * 2 / (value % 10)))
            }
            #expect(client.statistics.leased == 0)
            #expect(client.statistics.open <= 4)
            #expect(client.statistics.idle == client.statistics.open)
        }
    }
}

/// Each session keeps at most `maximumPreparedStatements`; the least recently used one is
/// deallocated on the server to make room, on the blocking path and the non-blocking one.
@Suite("The prepared-statement bound")
struct PreparedStatementBoundTests {
    private func preparedOnServer(_ connection: PostgresConnection) throws -> Int {
        try connection.query("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pc%'").single().decode(0, as: Int.self)
    }

    @Test func theLeastRecentlyUsedStatementMakesRoom() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let configuration = try PostgresConfiguration(url: database.url, maximumPreparedStatements: 4)
        let connection = try PostgresConnection.connect(configuration)
        for value in 0..<10 {
            #expect(try connection.query("SELECT \(value)::int + $1", [1]).single().decode(0, as: Int.self) == value + 1)
            // The first statement is used again each time, so it is never the oldest.
            #expect(try connection.query("SELECT 100::int + $1", [1]).single().decode(0, as: Int.self) == 101)
        }
        // Four of ours (the counting statement itself is the fourth, after it evicts one).
        #expect(try preparedOnServer(connection) == 4)
        let kept = try connection.query(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT 100::int + $1'").single().decode(0, as: Int.self)
        #expect(kept == 1)
        connection.close()

        let client = PostgresClient(configuration: .init(connection: configuration, maximumConnections: 1))
        for value in 0..<10 {
            #expect(try await client.query("SELECT \(value)::int * $1", [2]).single().decode(0, as: Int.self) == value * 2)
        }
        let onServer = try await client.query(
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pc%'").single().decode(0, as: Int.self)
        #expect(onServer == 4)
        // An evicted statement is prepared again when it comes back.
        #expect(try await client.query("SELECT 0::int * $1", [2]).single().decode(0, as: Int.self) == 0)
        await client.shutdown()
        try await database.drop()
    }
}
