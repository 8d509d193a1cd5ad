import ArgumentParser
import Foundation
import Logging
import PartnerCore

/// `partner-center api-key create`: prints a new token (shown once, stored hashed).
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key", abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key and print its token.",
            discussion: "With --operator a new operator is created with the key (the first step of a new installation).")

        @OptionGroup var database: DatabaseOptions

        @Flag(name: .customLong("operator"), help: "Create an operator and a key for it.")
        var forOperator = false

        @Option(help: "Name of the new operator.")
        var name = "platform operator"

        @Option(help: "distributor, partner or customer.")
        var principalKind: String?

        @Option(help: "The principal's id.")
        var principalId: String?

        func validate() throws {
            if forOperator {
                guard principalKind == nil, principalId == nil else {
                    throw ValidationError("--operator creates its own principal; drop --principal-kind and --principal-id")
                }
            } else {
                guard let principalKind, let kind = Principal.Kind(rawValue: principalKind), kind != .operator else {
                    throw ValidationError("give --operator, or --principal-kind distributor|partner|customer with --principal-id")
                }
                guard let principalId, UUID(uuidString: principalId) != nil else {
                    throw ValidationError("--principal-id must be a UUID")
                }
            }
        }

        func run() async throws {
            let key = try await database.withClient(applicationName: "partner-center api-key", logger: Logger(label: "api-key")) { client in
                let keys = APIKeys(client: client)
                if forOperator { return try await keys.createOperator(name: name) }
                let kind = Principal.Kind(rawValue: principalKind ?? "")!
                let id = UUID(uuidString: principalId ?? "")!
                // The command line acts with the platform's authority, as an anonymous operator.
                let context = ChangeContext(principal: Principal(kind: .operator, id: UUID(uuid: UUID_NULL)), requestID: "cli")
                return try await keys.create(kind: kind, principalID: id, context: context)
            }
            print(key.token)
        }
    }
}

/// The all-zero UUID: the command line's operator identity in the audit log.
private let UUID_NULL: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
