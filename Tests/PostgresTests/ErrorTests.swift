import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Errors carry what the server said")
struct ErrorTests {
    @Test func uniqueViolationHasSQLStateAndConstraint() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            try await client.query("CREATE TABLE things (name text CONSTRAINT things_name_key UNIQUE)")
            try await client.query("INSERT INTO things VALUES ($1)", ["a"])
            let error = try await #require(throws: PostgresError.self) {
                try await client.query("INSERT INTO things VALUES ($1)", ["a"])
            }
            #expect(error.isUniqueViolation)
            #expect(error.sqlState == "23505")
            #expect(error.constraint == "things_name_key")
            #expect(error.code == .server)
        }
    }

    @Test func syntaxErrorHasSQLState() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let error = try await #require(throws: PostgresError.self) { try await client.query("SELEC 1") }
            #expect(error.sqlState == PostgresError.SQLState.syntaxError)
            // The pool keeps working after a failed statement.
            #expect(try await client.query("SELECT 2").single().decode(0, as: Int.self) == 2)
        }
    }

    @Test func descriptionLeaksNeitherParametersNorTheServersMessage() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let secret = "s3cr3t-value"
            let error = try await #require(throws: PostgresError.self) {
                try await client.query("SELECT $1::integer", [secret])
            }
            #expect(error.sqlState == "22P02")
            #expect(!error.description.contains("SELECT"))
            // The server's message quotes the value: only the debug description carries it.
            #expect(error.message.contains(secret))
            #expect(!error.description.contains(secret))
            #expect(!String(reflecting: error).contains("SELECT"))
            #expect(String(reflecting: error).contains(secret))
        }
    }

    @Test func statementTimeoutIsItsOwnError() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let client = try database.client(statementTimeout: .milliseconds(200))
        let error = try await #require(throws: PostgresError.self) { try await client.query("SELECT pg_sleep(5)") }
        #expect(error.isStatementTimeout)
        #expect(!error.isUnavailable)
        #expect(try await client.query("SELECT 1").single().decode(0, as: Int.self) == 1)
        await client.shutdown()
        try await database.drop()
    }

    /// A server out of resources (class 53) or turned read-only under a write (a standby
    /// during a failover, 25006) cannot take the work now: unavailable, not a bug.
    @Test func outOfResourcesAndReadOnlyAreUnavailable() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            try await client.query("CREATE TABLE written (id int)")
            let readOnly = try await #require(throws: PostgresError.self) {
                try await client.withTransaction { connection in
                    try connection.simpleQuery("SET TRANSACTION READ ONLY")
                    try connection.query("INSERT INTO written VALUES (1)")
                }
            }
            #expect(readOnly.sqlState == "25006")
            #expect(readOnly.isUnavailable)
            for state in ["53100", "53200", "53300"] {
                let error = try await #require(throws: PostgresError.self) {
                    try await client.query("DO $$ BEGIN RAISE EXCEPTION 'out of it' USING ERRCODE = '\(state)'; END $$")
                }
                #expect(error.sqlState == state)
                #expect(error.isUnavailable)
            }
            let constraint = try await #require(throws: PostgresError.self) {
                try await client.query("DO $$ BEGIN RAISE EXCEPTION 'a bug' USING ERRCODE = '42883'; END $$")
            }
            #expect(!constraint.isUnavailable)
        }
    }

    @Test func lockTimeoutIsRecognised() async throws {
        try await withTestDatabase(migrated: false) { (database, client) async throws in
            try await client.query("CREATE TABLE locked (id int PRIMARY KEY)")
            try await client.query("INSERT INTO locked VALUES (1)")
            let holder = try database.connect()
            try holder.simpleQuery("BEGIN")
            try holder.query("SELECT * FROM locked WHERE id = 1 FOR UPDATE")
            let error = try await #require(throws: PostgresError.self) {
                try await client.withTransaction { connection in
                    try connection.simpleQuery("SET LOCAL lock_timeout = '100ms'")
                    try connection.query("UPDATE locked SET id = 2 WHERE id = 1")
                }
            }
            #expect(error.isLockTimeout)
            #expect(error.transactionStep == .body)
            try holder.simpleQuery("ROLLBACK")
            holder.close()
        }
    }

    @Test func badURLRefusedConnectionAndBadPassword() async throws {
        #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "postgresql://%zz") }
        #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "") }
        let refused = try PostgresConfiguration(url: "postgresql://nobody@127.0.0.1:1/none", connectTimeout: 2)
        let refusedError = try #require(throws: PostgresError.self) { try PostgresConnection.connect(refused) }
        #expect(refusedError.code == .connectionFailed)
        #expect(refusedError.isUnavailable)

        let admin = try TestDatabase.adminURL()
        var components = try #require(URLComponents(string: admin))
        components.password = "definitely-wrong"
        let badPassword = try PostgresConfiguration(url: try #require(components.string))
        let passwordError = try #require(throws: PostgresError.self) { try PostgresConnection.connect(badPassword) }
        #expect(passwordError.code == .connectionFailed)
        #expect(passwordError.sqlState == "28P01")
    }
}
