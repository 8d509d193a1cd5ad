import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import PartnerCore
import Postgres

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
        idempotencyLeaseSeconds: configuration.idempotencyLeaseSeconds)
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
        services: configuration.budgetSettlementSeconds > 0
            ? [client, BudgetSettlementService(
                settlement: services.budgetSettlement, interval: .milliseconds(Int64(configuration.budgetSettlementSeconds * 1000)),
                logger: logger)]
            : [client],
        logger: logger)
}

/// The routes of DESIGN §4 behind their middleware; also what tests drive directly.
public func buildRouter(configuration: APIConfiguration, services: PartnerServices) -> Router<AppRequestContext> {
    _ = AppMetrics.registry
    let router = Router(context: AppRequestContext.self)
    // Metrics outermost, so they count the statuses the error middleware actually sends.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware())
    OperationsController(client: services.client).register(on: router)
    ConsoleController(directory: configuration.consoleDirectory).register(on: router)

    let endpoint = Endpoint(idempotency: services.idempotency, maximumBodySize: configuration.maximumBodySize)
    let principals = PrincipalCache(apiKeys: services.apiKeys, lifetimeSeconds: configuration.principalCacheSeconds)
    let unknownKeys = configuration.unknownKeysPerSecond > 0
        ? RateLimiter<String>(rate: configuration.unknownKeysPerSecond, burst: configuration.unknownKeysPerSecond * 10) : nil
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(cache: principals, unknownKeys: unknownKeys))
    if configuration.rateLimitPerSecond > 0 {
        v1.add(middleware: RateLimitMiddleware(
            limiter: RateLimiter(rate: configuration.rateLimitPerSecond, burst: configuration.rateLimitBurst)))
    }
    ProvisioningController(services: services, endpoint: endpoint, principals: principals).register(on: v1)
    FreezePermissionController(services: services, endpoint: endpoint).register(on: v1)
    CustomerController(services: services, endpoint: endpoint).register(on: v1)
    RestrictionController(services: services, endpoint: endpoint).register(on: v1)
    AccountController(services: services, endpoint: endpoint).register(on: v1)
    OrderController(services: services, endpoint: endpoint).register(on: v1)
    FeedController(services: services, endpoint: endpoint).register(on: v1)
    RetentionPolicyController(services: services, endpoint: endpoint).register(on: v1)
    BudgetController(services: services, endpoint: endpoint).register(on: v1)
    return router
}
