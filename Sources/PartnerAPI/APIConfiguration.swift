import Foundation
import PartnerCore

/// Settings of the HTTP backend, from flags and environment (see `partner-center serve`).
public struct APIConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// `development`, `test` or `production`; production refuses unsafe settings.
    public var environment: String
    public var codeDelivery: VerificationCodeDelivery
    /// Largest request body accepted (DESIGN: 1 MiB, then 413 `payload_too_large`).
    public var maximumBodySize: Int
    /// How long an authenticated key is trusted before it is looked up again, so a revoked
    /// key stops working within this time.
    public var principalCacheSeconds: Double
    /// Serve the console from this folder instead of the bundled copy (for editing it).
    public var consoleDirectory: String?
    /// A connection that sends no complete request for this long is closed.
    public var idleTimeoutSeconds: Double = 30
    /// Requests per second per API key (token bucket); 0 turns the limit off.
    public var rateLimitPerSecond: Double = 100
    /// Requests a key may send at once above its rate.
    public var rateLimitBurst: Double = 200
    /// Unknown API keys per second one client address may send (token bucket, burst ten
    /// times the rate); 0 turns the limit off.
    public var unknownKeysPerSecond: Double = 10
    /// The largest resource `spec`, in bytes of JSON.
    public var maximumSpecBytes = 16_384
    /// `VERIFICATION_CODE_SECRET`: the key codes are stored under; nil uses the database's.
    public var codeSecret: String?
    /// How long an idempotency claim is presumed alive without an answer.
    public var idempotencyLeaseSeconds: Double = 10
    /// Verification codes a caller may be issued per hour.
    public var codeIssuesPerHour = 10
    /// How often the server settles budgets (DESIGN §10: enforcement within 60 s); 0 leaves
    /// it to `partner-center settle-budgets` run from cron.
    public var budgetSettlementSeconds: Double = 10
    /// `WEBHOOK_SECRET_KEY`: the key webhook secrets are sealed under; nil uses the database's.
    public var webhookSecretKey: String?
    /// Webhook deliveries the server runs at once (each to another subscription); 0 leaves
    /// delivery to `partner-center deliver-webhooks`.
    public var webhookWorkers = 2
    /// The delivery worker's timing (tests shorten the backoff).
    public var webhookPolicy = WebhookDelivery.Policy()

    /// Production takes only `https` webhooks and code deliveries that reach no one else.
    public var isProduction: Bool { environment == "production" }

    public init(
        host: String = "127.0.0.1", port: Int = 8080, environment: String = "development",
        codeDelivery: VerificationCodeDelivery, maximumBodySize: Int = 1 << 20, principalCacheSeconds: Double = 5,
        consoleDirectory: String? = nil
    ) {
        self.consoleDirectory = consoleDirectory
        self.host = host
        self.port = port
        self.environment = environment
        self.codeDelivery = codeDelivery
        self.maximumBodySize = maximumBodySize
        self.principalCacheSeconds = principalCacheSeconds
    }
}
