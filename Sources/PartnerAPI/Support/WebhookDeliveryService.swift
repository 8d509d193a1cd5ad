import Logging
import PartnerCore
import Postgres
import ServiceLifecycle

/// Webhook delivery while the server runs (DESIGN §11), and alone under `partner-center
/// deliver-webhooks`: `workers` loops, each claiming one due subscription at a time, so a
/// slow receiver holds one loop and the others go on. Graceful shutdown lets each loop
/// finish the attempt it is in (its progress is written) and give its claim back, then stop. The first loop
/// also measures the outbox lag every `lagEvery`.
public struct WebhookDeliveryService: Service {
    let delivery: WebhookDelivery
    let workers: Int
    let logger: Logger
    /// When no subscription is due, how long a loop waits before asking again.
    let idle: Duration
    let lagEvery: Duration = .seconds(5)

    public init(delivery: WebhookDelivery, workers: Int, logger: Logger, idle: Duration = .milliseconds(500)) {
        self.delivery = delivery
        self.workers = max(1, workers)
        self.logger = logger
        self.idle = idle
    }

    /// The worker with the events' bodies rendered as the feed renders them.
    public static func delivery(
        client: PostgresClient, key: WebhookSecretKey, policy: WebhookDelivery.Policy, production: Bool, logger: Logger
    ) -> WebhookDelivery {
        WebhookDelivery(client: client, key: key, policy: policy, production: production, logger: logger) { event in
            Array(try JSONStreamEncoder.encode(event))
        }
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<workers {
                group.addTask { await loop(measuresLag: lane == 0) }
            }
        }
    }

    func loop(measuresLag: Bool) async {
        var lastLag = ContinuousClock.now - lagEvery
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var worked = false
            do {
                worked = try await delivery.deliverNext(stopping: { Task.isShuttingDownGracefully }) != nil
                if measuresLag, ContinuousClock.now - lastLag >= lagEvery {
                    lastLag = ContinuousClock.now
                    try await delivery.measureLag()
                }
            } catch {
                // The database is away (a restart): the loop waits and tries again.
                logger.error("webhook delivery failed", metadata: ["error": "\(error)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
            if !worked {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: idle) }
            }
        }
    }
}
