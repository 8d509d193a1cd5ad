import Foundation
import Logging
import Postgres

/// A database of its own for one test, cloned from the migrated template that
/// `Scripts/test` prepares, and dropped afterwards.
///
/// Without `TEST_DATABASE_URL` the test fails with a message saying how to run it: tests never
/// skip silently for want of a database.
public struct TestDatabase: Sendable {
    public enum SetupError: Error, CustomStringConvertible {
        case missingEnvironment(String)
        case badURL(String)

        public var description: String {
            switch self {
            case .missingEnvironment(let name):
                "\(name) is not set: run the tests through Scripts/test, which starts PostgreSQL and prepares the template database"
            case .badURL(let url): "TEST_DATABASE_URL is not a postgresql:// URL: \(url.prefix(12))…"
            }
        }
    }

    public let name: String
    /// Connection URL of this database (the admin role: superuser in the embedded cluster).
    public let url: String

    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw SetupError.missingEnvironment(name)
        }
        return value
    }

    /// The admin URL (maintenance database) from the environment.
    public static func adminURL() throws -> String { try environment("TEST_DATABASE_URL") }

    /// `url` with its database replaced by `database`.
    public static func url(_ url: String, database: String) throws -> String {
        guard var components = URLComponents(string: url), components.scheme?.hasPrefix("postgres") == true else {
            throw SetupError.badURL(url)
        }
        components.path = "/" + database
        guard let result = components.string else { throw SetupError.badURL(url) }
        return result
    }

    /// Creates a fresh database: from the migrated template, or empty with `migrated: false`.
    public static func create(migrated: Bool = true) async throws -> TestDatabase {
        let admin = try adminURL()
        let template = migrated ? try environment("TEST_TEMPLATE_DATABASE") : "template0"
        let name = "pc_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await withAdminConnection(admin) { connection in
            // Identifiers cannot be bound as parameters; both names are generated or vetted here.
            precondition(template.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
            try connection.simpleQuery("CREATE DATABASE \(name) TEMPLATE \(template)")
        }
        return TestDatabase(name: String(name), url: try url(admin, database: String(name)))
    }

    /// Drops the database, closing whatever sessions remain.
    public func drop() async throws {
        let name = self.name
        try await Self.withAdminConnection(try Self.adminURL()) { connection in
            try connection.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// A pooled client on this database.
    public func client(
        maximumConnections: Int = 4, acquireTimeout: Duration = .seconds(10),
        statementTimeout: Duration? = .seconds(30)
    ) throws -> PostgresClient {
        PostgresClient(
            configuration: .init(
                connection: try PostgresConfiguration(url: url, applicationName: "partner-center tests", statementTimeout: statementTimeout),
                maximumConnections: maximumConnections, acquireTimeout: acquireTimeout),
            logger: Logger(label: "test-db"))
    }

    /// A pooled client on this database as the application role `partner_app`, which
    /// row-level security applies to (the admin role bypasses it). The role gets the admin's
    /// password and may log in, as `Scripts/db app-url` does for `Scripts/run`.
    public func applicationClient(maximumConnections: Int = 4) async throws -> PostgresClient {
        guard var components = URLComponents(string: url) else { throw SetupError.badURL(url) }
        try await Self.applicationLogin.value
        components.user = "partner_app"
        guard let appURL = components.string else { throw SetupError.badURL(url) }
        return PostgresClient(
            configuration: .init(
                connection: try PostgresConfiguration(url: appURL, applicationName: "partner-center tests (app)", statementTimeout: .seconds(30)),
                maximumConnections: maximumConnections, acquireTimeout: .seconds(10)),
            logger: Logger(label: "test-db-app"))
    }

    /// A plain blocking connection, for checks and for provoking conditions.
    public func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(PostgresConfiguration(url: url, applicationName: "partner-center tests"))
    }

    /// Lets `partner_app` log in with the admin's password, once per test process (ALTER
    /// ROLE from parallel tests would collide on the role's row).
    static let applicationLogin = Task<Void, any Error> {
        let admin = try adminURL()
        guard let components = URLComponents(string: admin) else { throw SetupError.badURL(admin) }
        let literal = "'" + (components.password ?? "").replacingOccurrences(of: "'", with: "''") + "'"
        try await withAdminConnection(admin) { connection in
            try connection.simpleQuery("ALTER ROLE partner_app WITH LOGIN PASSWORD \(literal)")
        }
    }

    private static func withAdminConnection(_ url: String, _ body: @escaping @Sendable (PostgresConnection) throws -> Void) async throws {
        let configuration = try PostgresConfiguration(url: url, applicationName: "partner-center tests")
        let client = PostgresClient(configuration: .init(connection: configuration, maximumConnections: 1))
        do {
            try await client.withConnection(body)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}

/// Runs `body` with a fresh database and a client on it, then drops both whatever happens.
public func withTestDatabase<T>(
    migrated: Bool = true, maximumConnections: Int = 4,
    _ body: (TestDatabase, PostgresClient) async throws -> T
) async throws -> T {
    let database = try await TestDatabase.create(migrated: migrated)
    let client = try database.client(maximumConnections: maximumConnections)
    do {
        let value = try await body(database, client)
        await client.shutdown()
        try await database.drop()
        return value
    } catch {
        await client.shutdown()
        try? await database.drop()
        throw error
    }
}
