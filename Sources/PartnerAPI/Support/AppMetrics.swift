import Metrics
import Postgres
import Prometheus

/// The process's Prometheus registry behind swift-metrics, which `/metrics` serves.
///
/// The library does not install it: the process that owns the globals does, with
/// `bootstrap()` at start (`partner-center serve`, a test harness), before any metric is
/// made, since a metric made earlier stays on swift-metrics' no-op backend for good.
public enum AppMetrics {
    public static let registry = PrometheusCollectorRegistry()

    /// Makes the registry swift-metrics' backend. Once per process: a second call does
    /// nothing (swift-metrics itself allows one bootstrap).
    public static func bootstrap() { _ = bootstrapped }

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in (prometheusNames[name] ?? name, labels) }
        MetricsSystem.bootstrap(factory)
    }()

    /// Prometheus's conventions (DESIGN §11): counters end in `_total`, a histogram of
    /// durations in `_seconds` (swift-prometheus records timers in seconds). Hummingbird's
    /// request metrics keep their OpenTelemetry-style stems.
    static let prometheusNames: [String: String] = [
        "hb.requests": "http_server_requests_total",
        "hb.request.errors": "http_server_request_errors_total",
        "http.server.request.duration": "http_server_request_duration_seconds",
    ]

    /// Requests that failed with a bug (500 `internal_error`); made on first use, after the
    /// bootstrap.
    static let internalErrors = Counter(label: "partner_center_internal_errors_total")

    /// Requests refused by the per-key rate limit; made on first use, after the bootstrap.
    static let rateLimited = Counter(label: "partner_center_rate_limited_total")

    /// The Prometheus text, with the pool gauges read at scrape time.
    static func scrape(pool: PostgresClient.Statistics) -> [UInt8] {
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "open")]).record(pool.open)
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "idle")]).record(pool.idle)
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "leased")]).record(pool.leased)
        Gauge(label: "partner_center_db_pool_waiting").record(pool.waiting)
        return registry.emitToBuffer()
    }
}
