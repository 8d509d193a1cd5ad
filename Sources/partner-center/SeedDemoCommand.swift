import ArgumentParser
import Foundation
import Logging
import PartnerCore

/// `partner-center seed-demo`: builds a small demo world and prints one token per role,
/// each line ending with the token.
struct SeedDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo",
        abstract: "Create a demo distributor, partners, customers and resources, and print their API tokens.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = Logger(label: "seed-demo")
        let keys = try await database.withClient(applicationName: "partner-center seed-demo", logger: logger) { client in
            try await DemoSeed(services: PartnerServices(client: client, codeDelivery: .log(logger))).run()
        }
        print("Demo world created. API tokens (shown once; send as 'Authorization: Bearer TOKEN'):")
        for key in keys {
            print("\(key.role.padding(toLength: 27, withPad: " ", startingAt: 0)) \(key.name) [\(key.id.uuidString.lowercased())]  \(key.token)")
        }
    }
}
