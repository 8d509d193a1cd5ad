import Foundation
import HTTPTypes
import Hummingbird
import PartnerCore
import Synchronization

/// Resolves `Authorization: Bearer <key>` to its principal for every /v1 request; a missing
/// or unknown key is 401 `unauthenticated`.
///
/// A well-formed key the cache does not hold costs a database lookup, so guessing keys is
/// limited per client address: once an address has sent `unknownKeys`' burst of unknown keys
/// (refilled at its rate), it gets 429 `rate_limited` without a lookup until a token is due.
/// Only unknown keys are charged: an integration behind one address that uses many valid
/// keys never meets the limit.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let cache: PrincipalCache
    /// nil: no limit (`AUTH_FAILURES_PER_SECOND=0`).
    let unknownKeys: RateLimiter<String>?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header) else {
            throw PartnerError(.unauthenticated, "send an API key as 'Authorization: Bearer <key>'")
        }
        guard AuthenticationMiddleware.isPlausible(token) else { throw Self.unknown }
        let key: AuthenticatedKey
        let digest = APIKeys.digest(token)
        if let cached = cache.cachedKey(digest: digest) {
            key = cached
        } else {
            let address = context.clientAddress
            if let wait = unknownKeys?.wait(address) {
                AppMetrics.rateLimited.increment()
                throw PartnerError(
                    .rateLimited, "too many unknown API keys from this address; slow down",
                    retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            guard let found = try await cache.key(digest: digest) else {
                unknownKeys?.spend(address)
                throw Self.unknown
            }
            key = found
        }
        var context = context
        context.principal = key.principal
        context.apiKeyID = key.keyID
        return try await next(request, context)
    }

    static let unknown = PartnerError(.unauthenticated, "the API key is unknown or revoked, or it has expired")

    /// The shape check every token passes before any cache or query sees it: junk costs
    /// neither memory nor a database round trip.
    static func isPlausible(_ token: String) -> Bool { APIKeys.isWellFormed(token) }

    /// The token of `Bearer <token>` (the scheme in any case, spaces around the token
    /// ignored), read byte by byte: this runs on every request.
    static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 })
        else { return nil }
        let token = bytes.dropFirst(scheme.count).drop(while: { $0 == 0x20 || $0 == 0x09 })
        let end = token.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }).map { bytes.index(after: $0) } ?? token.startIndex
        return String(Substring(header.utf8[token.startIndex..<end]))
    }
}

/// Principals by token digest for a few seconds, so the key lookup is not on every
/// request's path, while a revoked key stops working within `lifetime` (at once on the
/// server that revoked it).
///
/// Memory is bounded whatever clients send: only well-formed tokens reach it, entries are
/// keyed by the 32-byte SHA-256 (never the token text), at most `capacity` of them, and an
/// unknown token is not remembered at all.
///
/// A lookup that was under way when a key was revoked must not put the key back: each
/// `forget` starts a new generation, and a lookup caches its answer only if no generation
/// began while it ran.
final class PrincipalCache: Sendable {
    private struct State {
        var entries: ExpiringEntries<Data, AuthenticatedKey>
        var generation: UInt64 = 0
    }

    private let lookup: @Sendable (Data) async throws -> AuthenticatedKey?
    private let lifetime: Duration
    private let state: Mutex<State>

    convenience init(apiKeys: APIKeys, lifetimeSeconds: Double, capacity: Int = 10_000) {
        self.init(lifetimeSeconds: lifetimeSeconds, capacity: capacity) { try await apiKeys.authenticate(digest: $0) }
    }

    /// `lookup` finds the key behind a digest (the database's `api_keys`).
    init(lifetimeSeconds: Double, capacity: Int = 10_000, lookup: @escaping @Sendable (Data) async throws -> AuthenticatedKey?) {
        self.lookup = lookup
        self.lifetime = .milliseconds(Int64(lifetimeSeconds * 1000))
        self.state = Mutex(State(entries: ExpiringEntries(capacity: capacity)))
    }

    /// The key if it is cached and fresh; no database work.
    func cachedKey(digest: Data) -> AuthenticatedKey? {
        let now = ContinuousClock.now
        return state.withLock { $0.entries.value(for: digest, now: now) }
    }

    func key(for token: String) async throws -> AuthenticatedKey? {
        try await key(digest: APIKeys.digest(token))
    }

    /// The key behind a token's digest: from the cache, else looked up (and then cached).
    func key(digest: Data) async throws -> AuthenticatedKey? {
        let now = ContinuousClock.now
        let (cached, generation) = state.withLock { ($0.entries.value(for: digest, now: now), $0.generation) }
        if let cached { return cached }
        guard let key = try await lookup(digest) else { return nil }
        state.withLock { state in
            guard state.generation == generation else { return }
            state.entries.set(key, for: digest, expires: now.advanced(by: lifetime), now: now)
        }
        return key
    }

    /// Drops a revoked key at once, and keeps lookups already under way from caching it again.
    func forget(keyID: UUID) {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll(whereValue: { $0.keyID == keyID })
        }
    }
}
