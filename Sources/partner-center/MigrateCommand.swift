import ArgumentParser
import Foundation
import Logging
import Postgres
import PostgresMigrations

/// `partner-center migrate`: applies `Schema/*.sql` in order (see `SchemaMigrator`).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema files, each in its own transaction.",
        discussion: "Refuses to run when an applied file was edited. Concurrent runs wait for each other; an up-to-date database is left unchanged."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Folder of NNNN_name.sql files.")
    var schemaDir: String = "Schema"

    @Flag(help: "List every schema file with its state instead of applying.")
    var status = false

    func run() async throws {
        let logger = Logger(label: "migrate")
        let migrator = try SchemaMigrator(directory: schemaDir)
        try await database.withClient(applicationName: "partner-center migrate", logger: logger) { client in
            if status {
                for entry in try await migrator.status(client) {
                    let when = entry.appliedAt.map { " \($0.formatted(.iso8601))" } ?? ""
                    print("\(entry.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(entry.name)\(when)")
                }
                return
            }
            let applied = try await migrator.migrate(client)
            if applied.isEmpty {
                print("schema is up to date (\(migrator.migrations.count) files)")
            } else {
                for name in applied { print("applied \(name)") }
            }
        }
    }
}
