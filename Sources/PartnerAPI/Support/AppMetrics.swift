import Metrics
import Postgres
import Prometheus

/// The process's Prometheus registry behind swift-metrics. Bootstrapped once per process on
/// first use (swift-metrics allows one bootstrap), shared by the server and by tests.
public enum AppMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Requests that failed with a bug (500 `internal_error`).
    static let internalErrors = Counter(label: "partner_center_internal_errors")

    /// Requests refused by the per-key rate limit.
    static let rateLimited = Counter(label: "partner_center_rate_limited")

    /// The Prometheus text, with the pool gauges read at scrape time.
    static func scrape(pool: PostgresClient.Statistics) -> [UInt8] {
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "open")]).record(pool.open)
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "idle")]).record(pool.idle)
        Gauge(label: "partner_center_db_pool_connections", dimensions: [("state", "leased")]).record(pool.leased)
        Gauge(label: "partner_center_db_pool_waiting").record(pool.waiting)
        return registry.emitToBuffer()
    }
}
