import ArgumentParser
import Foundation
import Logging
import PartnerCore
import Postgres

/// `partner-center api-key create` prints a new token (shown once, stored hashed);
/// `partner-center api-key revoke ID` revokes a key.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-key", abstract: "Manage API keys.", subcommands: [Create.self, Revoke.self])

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key by its id.",
            discussion: "Servers stop accepting the key within their principal cache's lifetime (5 s).")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The key's id (the `id` that creating it answered).")
        var id: String

        func validate() throws {
            guard UUID(uuidString: id) != nil else { throw ValidationError("the key id must be a UUID") }
        }

        func run() async throws {
            let keyID = UUID(uuidString: id)!
            let revoked = try await database.withClient(applicationName: "partner-center api-key", logger: Logger(label: "api-key")) { client in
                do {
                    return try await APIKeys(client: client).revoke(keyID: keyID, context: commandLineContext)
                } catch let error as PartnerError where error.code == .notFound {
                    throw ValidationError("no active API key has the id \(id)")
                }
            }
            print("revoked \(revoked.id.lowercasedString) (\(revoked.prefix)…)")
        }
    }

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
                return try await keys.create(kind: kind, principalID: id, context: commandLineContext)
            }
            print(key.token)
        }
    }
}

/// The command line acts with the platform's authority, as an anonymous operator: the
/// all-zero UUID in the audit log.
private let commandLineContext = ChangeContext(
    principal: Principal(kind: .operator, id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))), requestID: "cli")
