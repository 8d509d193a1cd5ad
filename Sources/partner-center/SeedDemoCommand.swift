import ArgumentParser
import Foundation
import Logging
import PartnerCore
import Postgres

/// `partner-center seed-demo`: builds a small demo world and prints one token per role:
/// as text for a person (each line ending with the token), or with `--json` as one object
/// for scripts and tests, which read nothing else.
struct SeedDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo",
        abstract: "Create a demo distributor, partners, customers and resources, and print their API tokens.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print {\"keys\": [{role, name, principal_kind, id, token}, …]} instead of text.")
    var json = false

    func run() async throws {
        let logger = Logger(label: "seed-demo")
        let keys = try await database.withClient(applicationName: "partner-center seed-demo", logger: logger) { client in
            try await DemoSeed(services: PartnerServices(client: client, codeDelivery: .log(logger))).run()
        }
        if json {
            print(try Self.json(keys))
            return
        }
        print("Demo world created. API tokens (shown once; send as 'Authorization: Bearer TOKEN'):")
        for key in keys {
            print("\(key.role.padding(toLength: 27, withPad: " ", startingAt: 0)) \(key.name) [\(key.id.lowercasedString)]  \(key.token)")
        }
    }

    /// The keys in the API's own conventions: snake_case names, lowercase ids.
    static func json(_ keys: [DemoSeed.Key]) throws -> String {
        struct Entry: Encodable {
            var role, name, principalKind, id, token: String
        }
        struct Output: Encodable { var keys: [Entry] }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let entries = keys.map {
            Entry(role: $0.role, name: $0.name, principalKind: $0.kind.rawValue, id: $0.id.lowercasedString, token: $0.token)
        }
        return String(decoding: try encoder.encode(Output(keys: entries)), as: UTF8.self)
    }
}
