import Metrics
import Postgres
import Prometheus

/// The process's Prometheus registry behind swift-metrics. Bootstrapped once per process on
/// first use (swift-metrics allows one bootstrap), shared by the server and by tests.
public enum AppMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in (prometheusNames[name] ?? name, labels) }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Prometheus's conventions (DESIGN §11): counters end in `_total`, a histogram of
    /// durations in `_seconds` (swift-prometheus records timers in seconds). Hummingbird's
    /// request metrics keep their OpenTelemetry-style stems.
    static let prometheusNames: [String: String] = [
        "hb.requests": "http_server_requests_total",
        "hb.request.errors": "http_server_request_errors_total",
        "http.server.request.duration": "http_server_request_duration_seconds",
    ]

    /// Requests that failed with a bug (500 `internal_error`). Made after the bootstrap (a
    /// counter made before it would stay on the no-op backend for good).
    static let internalErrors: Metrics.Counter = {
        _ = registry
        return Counter(label: "partner_center_internal_errors_total")
    }()

    /// Requests refused by the per-key rate limit; made after the bootstrap, as above.
    static let rateLimited: Metrics.Counter = {
        _ = registry
        return Counter(label: "partner_center_rate_limited_total")
    }()

    /// The Prometheus text, with the pool gauges read at scrape time.
    static func scrape(pool: PostgresClient.Statistics) -> [UInt8] {
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "open")]).record(pool.open)
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "idle")]).record(pool.idle)
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "leased")]).record(pool.leased)
        Gauge(label: "partner_center_db_pool_waiting").record(pool.waiting)
        return registry.emitToBuffer()
    }
}
