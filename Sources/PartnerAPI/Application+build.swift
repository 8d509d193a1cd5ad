import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import PartnerCore
import Postgres
import ServiceLifecycle

/// Wires configuration, the database client, the services and the routes into one
/// application. The database client runs as a service of the application, so graceful
/// shutdown (SIGTERM) stops the server first, lets in-flight requests finish, then closes
/// the pool.
public func buildApplication(
    configuration: APIConfiguration, client: PostgresClient, logger: Logger
) -> some ApplicationProtocol {
    let services = PartnerServices(
        client: client, codeDelivery: configuration.codeDelivery, codeSecret: CodeSecret(configured: configuration.codeSecret),
        codeIssuesPerHour: configuration.codeIssuesPerHour, maximumSpecBytes: configuration.maximumSpecBytes,
        idempotencyLeaseSeconds: configuration.idempotencyLeaseSeconds,
        webhookKey: WebhookSecretKey(configured: configuration.webhookSecretKey), production: configuration.isProduction)
    let router = buildRouter(configuration: configuration, services: services)
    // Hostile clients: a connection idle (or stuck in a half-sent head) past the timeout is
    // closed, and a request head is at most 96 KiB (a field 64 KiB) in at most 100 fields.
    let http1 = HTTP1Channel.Configuration(
        idleTimeout: .milliseconds(Int64(configuration.idleTimeoutSeconds * 1000)),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 64 * 1024, maxHeaderListSize: 96 * 1024, maxHeaderFieldCount: 100))
    return Application(
        router: router,
        server: .http1(configuration: http1),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "partner-center"),
        services: backgroundServices(configuration: configuration, services: services, logger: logger),
        logger: logger)
}

/// What runs beside the listener: the database client (closed last), budget settlement and
/// webhook delivery, each unless configured off.
func backgroundServices(configuration: APIConfiguration, services: PartnerServices, logger: Logger) -> [any Service] {
    var list: [any Service] = [services.client]
    if configuration.budgetSettlementSeconds > 0 {
        list.append(BudgetSettlementService(
            settlement: services.budgetSettlement, interval: .milliseconds(Int64(configuration.budgetSettlementSeconds * 1000)),
            logger: logger))
    }
    if configuration.webhookWorkers > 0 {
        list.append(WebhookDeliveryService(
            delivery: WebhookDeliveryService.delivery(
                client: services.client, key: services.webhooks.key, policy: configuration.webhookPolicy,
                production: configuration.isProduction, logger: logger),
            workers: configuration.webhookWorkers, logger: logger))
    }
    return list
}

/// The routes of DESIGN §4 behind their middleware; also what tests drive directly.
public func buildRouter(configuration: APIConfiguration, services: PartnerServices) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Metrics outermost, so they count the statuses the error middleware actually sends.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(OperationsController(client: services.client).endpoints)
    router.addRoutes(ConsoleController(directory: configuration.consoleDirectory).endpoints)

    let endpoint = Endpoint(idempotency: services.idempotency, maximumBodySize: configuration.maximumBodySize)
    let principals = PrincipalCache(apiKeys: services.apiKeys, lifetimeSeconds: configuration.principalCacheSeconds)
    let unknownKeys = configuration.unknownKeysPerSecond > 0
        ? RateLimiter<String>(rate: configuration.unknownKeysPerSecond, burst: configuration.unknownKeysPerSecond * 10) : nil
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(cache: principals, unknownKeys: unknownKeys))
    if configuration.rateLimitPerSecond > 0 {
        v1.add(middleware: RateLimitMiddleware(
            limiter: RateLimiter(rate: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst)))
    }
    // Each controller gets only the services it uses.
    v1.addRoutes(ProvisioningController(
        provisioning: services.provisioning, apiKeys: services.apiKeys, endpoint: endpoint, principals: principals).endpoints)
    v1.addRoutes(FreezePermissionController(grants: services.grants, endpoint: endpoint).endpoints)
    v1.addRoutes(CustomerController(customers: services.customers, resources: services.resources, endpoint: endpoint).endpoints)
    v1.addRoutes(RestrictionController(restrictions: services.restrictions, endpoint: endpoint).endpoints)
    v1.addRoutes(AccountController(
        settings: services.settings, agreements: services.agreements, verificationCodes: services.verificationCodes,
        endpoint: endpoint).endpoints)
    v1.addRoutes(OrderController(purchases: services.purchases, endpoint: endpoint).endpoints)
    v1.addRoutes(FeedController(auditLog: services.auditLog, outbox: services.outbox, endpoint: endpoint).endpoints)
    v1.addRoutes(RetentionPolicyController(retentionPolicies: services.retentionPolicies, endpoint: endpoint).endpoints)
    v1.addRoutes(BudgetController(prices: services.prices, budgets: services.budgets, endpoint: endpoint).endpoints)
    v1.addRoutes(WebhookController(webhooks: services.webhooks, endpoint: endpoint).endpoints)
    return router
}
