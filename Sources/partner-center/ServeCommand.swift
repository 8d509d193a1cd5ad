import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PartnerAPI
import PartnerCore
import Postgres

/// `partner-center serve`: the HTTP backend (DESIGN §4). SIGTERM and SIGINT shut it down
/// gracefully: the listener closes, in-flight requests finish, then the pool closes.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP backend.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on (default: $HOST or 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default: $PORT or 8080).")
    var port: Int?

    @Option(help: "development, test or production (default: $ENVIRONMENT or development).")
    var environment: String?

    @Option(help: "How verification codes are delivered: log, response or webhook (default: $VERIFICATION_CODE_DELIVERY or log).")
    var verificationCodeDelivery: String?

    @Option(help: "Where webhook delivery posts codes (default: $VERIFICATION_CODE_WEBHOOK_URL).")
    var verificationCodeWebhookURL: String?

    @Option(help: "Serve the console from this folder instead of the bundled copy (while editing it).")
    var consoleDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (default: $LOG_LEVEL or info).")
    var logLevel: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var logger = Logger(label: "partner-center", factory: ServerLogHandler.init)
        logger.logLevel = Logger.Level(rawValue: logLevel ?? env["LOG_LEVEL"] ?? "info") ?? .info
        let environmentName = environment ?? env["ENVIRONMENT"] ?? "development"
        let delivery: VerificationCodeDelivery
        do {
            delivery = try VerificationCodeDelivery.named(
                verificationCodeDelivery ?? env["VERIFICATION_CODE_DELIVERY"] ?? "log",
                webhookURL: verificationCodeWebhookURL ?? env["VERIFICATION_CODE_WEBHOOK_URL"],
                environment: environmentName, logger: logger)
        } catch let error as PartnerError {
            throw ValidationError(error.message)
        }
        let portNumber = port ?? env["PORT"].flatMap(Int.init) ?? 8080
        guard (1...65_535).contains(portNumber) else { throw ValidationError("the port must be between 1 and 65535") }
        let configuration = APIConfiguration(
            host: host ?? env["HOST"] ?? "127.0.0.1", port: portNumber, environment: environmentName, codeDelivery: delivery,
            consoleDirectory: consoleDir)
        let client = PostgresClient(
            configuration: try database.clientConfiguration(applicationName: "partner-center serve"), logger: logger)
        logger.notice("starting", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "environment": "\(environmentName)",
            "verification_code_delivery": "\(delivery.name)", "pool_size": "\(client.configuration.maximumConnections)",
        ])
        let app = buildApplication(configuration: configuration, client: client, logger: logger)
        try await app.runService()
    }
}
