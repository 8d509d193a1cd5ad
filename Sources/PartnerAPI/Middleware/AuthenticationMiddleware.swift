import Foundation
import HTTPTypes
import Hummingbird
import PartnerCore
import Synchronization

/// Resolves `Authorization: Bearer <key>` to its principal for every /v1 request; a missing
/// or unknown key is 401 `unauthenticated`.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let cache: PrincipalCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header) else {
            throw PartnerError(.unauthenticated, "send an API key as 'Authorization: Bearer <key>'")
        }
        guard AuthenticationMiddleware.isPlausible(token), let key = try await cache.key(for: token) else {
            throw PartnerError(.unauthenticated, "the API key is unknown or revoked, or it has expired")
        }
        var context = context
        context.principal = key.principal
        context.apiKeyID = key.keyID
        return try await next(request, context)
    }

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
final class PrincipalCache: Sendable {
    private let apiKeys: APIKeys
    private let lifetime: Duration
    private let entries: Mutex<ExpiringEntries<Data, AuthenticatedKey>>

    init(apiKeys: APIKeys, lifetimeSeconds: Double, capacity: Int = 10_000) {
        self.apiKeys = apiKeys
        self.lifetime = .milliseconds(Int64(lifetimeSeconds * 1000))
        self.entries = Mutex(ExpiringEntries(capacity: capacity))
    }

    func key(for token: String) async throws -> AuthenticatedKey? {
        let digest = APIKeys.digest(token)
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0.value(for: digest, now: now) }) { return cached }
        guard let key = try await apiKeys.authenticate(digest: digest) else { return nil }
        entries.withLock { $0.set(key, for: digest, expires: now.advanced(by: lifetime), now: now) }
        return key
    }

    /// Drops a revoked key at once.
    func forget(keyID: UUID) {
        entries.withLock { $0.removeAll(whereValue: { $0.keyID == keyID }) }
    }
}
