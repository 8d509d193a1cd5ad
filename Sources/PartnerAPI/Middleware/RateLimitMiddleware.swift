import Foundation
import Hummingbird
import PartnerCore
import Synchronization

/// Requests per API key (DESIGN §7, hostile clients): a token bucket per key, refilled at
/// `rate` per second up to `burst`. A key over its limit gets 429 `rate_limited` with
/// `Retry-After`; other keys are untouched, since each has its own bucket and the check is
/// one short critical section.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let keyID = context.apiKeyID, let wait = limiter.admit(keyID) {
            AppMetrics.rateLimited.increment()
            throw PartnerError(
                .rateLimited, "too many requests for this API key; slow down",
                retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
        return try await next(request, context)
    }
}

/// Token buckets by key id. Buckets exist only for keys that authenticated, so their number
/// is bounded by the installation's keys; when the table grows past `pruneAbove`, buckets
/// idle long enough to be full again are dropped (a dropped bucket comes back full).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[UUID: Bucket]>([:])
    private static let pruneAbove = 10_000

    /// `rate` requests a second with bursts of `burst`.
    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// nil when the request may go ahead (and takes a token); else seconds until a token is due.
    func admit(_ key: UUID, now: ContinuousClock.Instant = .now) -> Double? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = bucket.updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * rate)
            bucket.updated = now
            defer {
                buckets[key] = bucket
                if buckets.count > Self.pruneAbove {
                    let refill = Duration.milliseconds(Int64(burst / rate * 1000))
                    buckets = buckets.filter { $0.value.updated.advanced(by: refill) > now }
                }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}
