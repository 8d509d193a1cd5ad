import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Transactions commit, roll back, and retry")
struct TransactionTests {
    struct Boom: Error {}

    @Test func commitsWhenTheBodyReturns() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            try await client.query("CREATE TABLE t (v int)")
            try await client.withTransaction { try $0.query("INSERT INTO t VALUES (1), (2)") }
            #expect(try await client.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 2)
        }
    }

    @Test func rollsBackWhenTheBodyThrows() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            try await client.query("CREATE TABLE t (v int)")
            await #expect(throws: Boom.self) {
                try await client.withTransaction { connection in
                    try connection.query("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            #expect(try await client.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
            // A server error inside the body rolls back too and says which step failed.
            let error = try await #require(throws: PostgresError.self) {
                try await client.withTransaction { connection in
                    try connection.query("INSERT INTO t VALUES (1)")
                    try connection.query("INSERT INTO t VALUES ($1::int)", ["nope"])
                }
            }
            #expect(error.transactionStep == .body)
            #expect(try await client.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
        }
    }

    /// Two serializable transactions that each read what the other writes: one of them must
    /// fail with 40001, and the client re-runs it to success.
    @Test func retriesASerializationFailure() async throws {
        try await withTestDatabase(migrated: false, maximumConnections: 2) { (database, client) async throws in
            try await client.query("CREATE TABLE accounts (id int PRIMARY KEY, balance int)")
            try await client.query("INSERT INTO accounts VALUES (1, 100), (2, 100)")
            let attempts = Counter()
            let rival = try database.connect()
            try await client.withTransaction(isolation: .serializable) { connection in
                let attempt = attempts.increment()
                _ = try connection.query("SELECT sum(balance) FROM accounts")
                if attempt == 1 {
                    // A concurrent serializable transaction commits a conflicting write.
                    try rival.simpleQuery("BEGIN ISOLATION LEVEL SERIALIZABLE")
                    _ = try rival.query("SELECT sum(balance) FROM accounts")
                    try rival.query("UPDATE accounts SET balance = balance - 10 WHERE id = 2")
                    try rival.simpleQuery("COMMIT")
                }
                try connection.query("UPDATE accounts SET balance = balance - 10 WHERE id = 1")
            }
            rival.close()
            #expect(attempts.value == 2)
            #expect(try await client.query("SELECT sum(balance) FROM accounts").single().decode(0, as: Int.self) == 180)
        }
    }
}

/// A thread-safe counter for closures that run on the blocking pool.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
