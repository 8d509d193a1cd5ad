import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
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

    @Option(help: "Log lines as text or json (default: $LOG_FORMAT or text).")
    var logFormat: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        Self.sizeEventLoops(env)
        AppMetrics.bootstrap()
        guard let format = LogLineFormat(rawValue: logFormat ?? env["LOG_FORMAT"] ?? "text") else {
            throw ValidationError("the log format must be text or json")
        }
        var logger = Logger(label: "partner-center") { ServerLogHandler(label: $0, format: format) }
        logger.logLevel = try .named(logLevel ?? env["LOG_LEVEL"])
        let environmentName = environment ?? env["ENVIRONMENT"] ?? "development"
        let delivery: VerificationCodeDelivery
        do {
            delivery = try VerificationCodeDelivery.named(
                verificationCodeDelivery ?? env["VERIFICATION_CODE_DELIVERY"] ?? "log",
                webhookURL: verificationCodeWebhookURL ?? env["VERIFICATION_CODE_WEBHOOK_URL"],
                webhookSecret: env["VERIFICATION_CODE_WEBHOOK_SECRET"],
                environment: environmentName, logger: logger)
        } catch let error as PartnerError {
            throw ValidationError(error.message)
        }
        let portNumber = try port ?? env.wholeNumber("PORT") ?? 8080
        guard (1...65_535).contains(portNumber) else { throw ValidationError("the port must be between 1 and 65535") }
        var configuration = APIConfiguration(
            host: host ?? env["HOST"] ?? "127.0.0.1", port: portNumber, environment: environmentName, codeDelivery: delivery,
            consoleDirectory: consoleDir)
        try Self.harden(&configuration, env)
        let client = PostgresClient(
            configuration: try database.clientConfiguration(applicationName: "partner-center serve"), logger: logger)
        logger.notice("starting", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "environment": "\(environmentName)",
            "verification_code_delivery": "\(delivery.name)", "pool_size": "\(client.configuration.maximumConnections)",
        ])
        let app = buildApplication(configuration: configuration, client: client, logger: logger)
        try await app.runService()
    }

    /// NIO's event loops parse HTTP and write answers; handlers and statements run on the
    /// Swift concurrency pool, which already has a thread per core. One loop per core (NIO's
    /// default) put four busy threads on two cores, and measured in alternating pairs of
    /// buys, half as many loops cost 3–7 % less CPU per request for the same rate.
    /// `NIO_SINGLETON_GROUP_LOOP_COUNT` still sets the number. This must run before
    /// anything touches NIO's shared event loops.
    static func sizeEventLoops(_ env: [String: String]) {
        guard env["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil else { return }
        NIOSingletons.groupLoopCountSuggestion = max(1, System.coreCount / 2)
    }

    /// The hostile-client and secret settings, from the environment (README: Configuration).
    static func harden(_ configuration: inout APIConfiguration, _ env: [String: String]) throws {
        if let value = try env.number("HTTP_IDLE_TIMEOUT_SECONDS", 1...3600) { configuration.idleTimeoutSeconds = value }
        if let value = try env.number("RATE_LIMIT_PER_SECOND", 0...1_000_000) {
            configuration.rateLimitPerSecond = value
            configuration.rateLimitBurst = max(1, value * 2)
        }
        if let value = try env.number("RATE_LIMIT_BURST", 1...1_000_000) { configuration.rateLimitBurst = value }
        if let value = try env.number("AUTH_FAILURES_PER_SECOND", 0...1_000_000) { configuration.unknownKeysPerSecond = value }
        if let value = try env.wholeNumber("MAX_SPEC_BYTES", 2...1_048_576) { configuration.maximumSpecBytes = value }
        if let value = try env.number("IDEMPOTENCY_LEASE_SECONDS", 1...3600) { configuration.idempotencyLeaseSeconds = value }
        if let value = try env.wholeNumber("VERIFICATION_CODES_PER_HOUR", 1...10_000) { configuration.codeIssuesPerHour = value }
        if let value = try env.number("BUDGET_SETTLEMENT_SECONDS", 0...60) { configuration.budgetSettlementSeconds = value }
        if let value = try env.wholeNumber("WEBHOOK_WORKERS", 0...64) { configuration.webhookWorkers = value }
        configuration.webhookPolicy = try DeliverWebhooksCommand.policy(env)
        if let key = env["WEBHOOK_SECRET_KEY"] {
            guard WebhookSecretKey.isAcceptable(key) else { throw ValidationError("WEBHOOK_SECRET_KEY must be at least 32 bytes") }
            configuration.webhookSecretKey = key
        }
        if let secret = env["VERIFICATION_CODE_SECRET"] {
            guard CodeSecret.isAcceptable(secret) else { throw ValidationError("VERIFICATION_CODE_SECRET must be at least 32 bytes") }
            configuration.codeSecret = secret
        }
    }
}
