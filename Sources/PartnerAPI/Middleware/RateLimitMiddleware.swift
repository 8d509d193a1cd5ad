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

    let limiter: RateLimiter<UUID>

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

/// Token buckets by key: API key ids (requests), client addresses (unknown API keys). When
/// the table grows past `pruneAbove`, buckets idle long enough to be full again are dropped
/// (a dropped bucket comes back full); past twice that, as when one client sends from many
/// addresses, every bucket is, so the table's memory stays bounded whatever clients do.
final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[Key: Bucket]>([:])
    private static var pruneAbove: Int { 10_000 }

    /// `rate` requests a second with bursts of `burst`.
    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// nil when the request may go ahead (and takes a token); else seconds until a token is due.
    func admit(_ key: Key, now: ContinuousClock.Instant = .now) -> Double? {
        update(key, now: now) { bucket in
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Like `admit`, but takes no token: for limits charged only afterwards (`spend`), by
    /// what the request turned out to be.
    func wait(_ key: Key, now: ContinuousClock.Instant = .now) -> Double? {
        update(key, now: now) { bucket in bucket.tokens >= 1 ? nil : (1 - bucket.tokens) / rate }
    }

    /// Takes a token after the fact. Requests let through at once may overdraw the bucket,
    /// by one burst at most.
    func spend(_ key: Key, now: ContinuousClock.Instant = .now) {
        update(key, now: now) { bucket in bucket.tokens = max(-burst, bucket.tokens - 1) }
    }

    private func update<T>(_ key: Key, now: ContinuousClock.Instant, _ body: (inout Bucket) -> T) -> T {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = bucket.updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * rate)
            bucket.updated = now
            let result = body(&bucket)
            buckets[key] = bucket
            if buckets.count > Self.pruneAbove {
                let refill = Duration.milliseconds(Int64(burst / rate * 1000))
                buckets = buckets.filter { $0.value.updated.advanced(by: refill) > now }
                if buckets.count > 2 * Self.pruneAbove { buckets = [:] }
            }
            return result
        }
    }
}
