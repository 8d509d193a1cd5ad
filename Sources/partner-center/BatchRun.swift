import Foundation
import Logging
import PartnerCore
import Postgres

/// What the one-shot batch subcommands share (retention-sweep, settle-budgets,
/// deliver-webhooks --once): a client on a migrated schema, shut down on every path; a
/// one-line message on stderr and exit 1 when the database or a rule refuses; the summary
/// as JSON for scripts.
struct BatchRun {
    /// The subcommand's name: the client's application name and the start of its error lines.
    let command: String

    func run<T>(_ database: DatabaseOptions, logger: Logger, _ body: (PostgresClient) async throws -> T) async throws -> T {
        do {
            return try await database.withClient(applicationName: "partner-center \(command)", logger: logger) { client in
                try await requireSchema(client)
                return try await body(client)
            }
        } catch let error as PostgresError {
            fail(error.isUnavailable ? "database unreachable: \(error.message)" : "database error: \(error.message)")
        } catch let error as PartnerError {
            fail(error.message)
        }
    }

    /// A clear message instead of a SQL error when `migrate` was never run.
    func requireSchema(_ client: PostgresClient) async throws {
        let present: Bool = try await client.query("SELECT to_regclass('resources') IS NOT NULL").single().decode(0)
        guard present else { fail("the schema is not migrated: run `partner-center migrate` first") }
    }

    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(command): error: \(message)\n".utf8))
        Foundation.exit(1)
    }

    /// A summary as one JSON line: snake_case keys, sorted.
    static func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
