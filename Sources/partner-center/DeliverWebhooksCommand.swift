import ArgumentParser
import Foundation
import Logging
import PartnerAPI
import PartnerCore
import Postgres
import ServiceLifecycle

/// `partner-center deliver-webhooks`: webhook delivery without the HTTP server (DESIGN §11),
/// for a deployment that runs it apart (`WEBHOOK_WORKERS=0` on the servers) or beside them:
/// claims keep any number of workers off each other's subscriptions. Runs until SIGTERM or
/// SIGINT (each worker finishes its attempt); `--once` sends what is due and exits.
struct DeliverWebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver-webhooks",
        abstract: "Deliver webhook events to their subscriptions (until stopped, or --once).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Subscriptions served at once (default: $WEBHOOK_WORKERS or 2).")
    var workers: Int?

    @Option(help: "development, test or production (default: $ENVIRONMENT or development); production sends to https only.")
    var environment: String?

    @Flag(help: "Send what is due now, print the summary, and exit.")
    var once = false

    @Flag(help: "With --once: print the summary as JSON.")
    var json = false

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let logger = try Self.logger(level: env["LOG_LEVEL"])
        let production = (environment ?? env["ENVIRONMENT"] ?? "development") == "production"
        let count = try workers ?? env.wholeNumber("WEBHOOK_WORKERS") ?? 2
        guard (1...64).contains(count) else { throw ValidationError("workers must be from 1 to 64") }
        let keyText = env["WEBHOOK_SECRET_KEY"]
        if let keyText, !WebhookSecretKey.isAcceptable(keyText) { throw ValidationError("WEBHOOK_SECRET_KEY must be at least 32 bytes") }
        let policy = try Self.policy(env)
        @Sendable func delivery(_ client: PostgresClient) -> WebhookDelivery {
            WebhookDeliveryService.delivery(
                client: client, key: WebhookSecretKey(configured: keyText), policy: policy, production: production, logger: logger)
        }
        if once {
            let report = try await BatchRun(command: "deliver-webhooks").run(database, logger: logger) { client, _ in
                try await delivery(client).runOnce()
            }
            if json {
                try BatchRun.printJSON(report)
            } else {
                print("webhooks: \(report.subscriptions) batches, \(report.delivered) delivered, \(report.retrying) to retry, \(report.failed) given up")
            }
            return
        }
        let client = PostgresClient(
            configuration: try database.clientConfiguration(applicationName: "partner-center deliver-webhooks"), logger: logger)
        logger.notice("delivering webhooks", metadata: ["workers": "\(count)", "production": "\(production)"])
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: client),
                    .init(service: WebhookDeliveryService(delivery: delivery(client), workers: count, logger: logger),
                          successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func logger(level: String?) throws -> Logger {
        var logger = Logger(label: "deliver-webhooks")
        logger.logLevel = try .named(level)
        return logger
    }

    /// The worker's timing from the environment (serve reads it too): `WEBHOOK_LEASE_SECONDS`,
    /// how long a claim keeps other workers off a subscription whose worker died (60 by
    /// default; at least the 10 s POST timeout and a margin).
    static func policy(_ env: [String: String]) throws -> WebhookDelivery.Policy {
        var policy = WebhookDelivery.Policy()
        if let seconds = try env.number("WEBHOOK_LEASE_SECONDS", 16...3600) { policy.leaseSeconds = seconds }
        return policy
    }
}
