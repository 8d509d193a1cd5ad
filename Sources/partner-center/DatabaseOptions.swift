import ArgumentParser
import Foundation
import Logging
import Postgres

/// Database flags shared by every subcommand that connects.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL or conninfo (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Most database connections open at once (default: $DATABASE_POOL_SIZE or 8).")
    var poolSize: Int?

    func clientConfiguration(applicationName: String) throws -> PostgresClient.Configuration {
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database: set DATABASE_URL or pass --database-url")
        }
        let size = try poolSize ?? environment.wholeNumber("DATABASE_POOL_SIZE") ?? 8
        guard (1...200).contains(size) else { throw ValidationError("the pool size must be between 1 and 200") }
        return PostgresClient.Configuration(
            connection: try PostgresConfiguration(url: url, applicationName: applicationName),
            maximumConnections: size)
    }

    /// Runs `body` with a client and always shuts the client down afterwards.
    func withClient<T>(
        applicationName: String, logger: Logger, _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: try clientConfiguration(applicationName: applicationName), logger: logger)
        do {
            let value = try await body(client)
            await client.shutdown()
            return value
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
