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
        guard let principal = try await cache.principal(for: token) else {
            throw PartnerError(.unauthenticated, "the API key is unknown or revoked")
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }

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

/// Principals by token for a few seconds, so the key lookup is not on every request's
/// path, while a revoked key stops working within `lifetime`.
final class PrincipalCache: Sendable {
    private let apiKeys: APIKeys
    private let lifetime: Duration
    /// nil for a token that is unknown or revoked: those are remembered too.
    private let entries = Mutex(ExpiringEntries<String, Principal?>(capacity: 10_000))

    init(apiKeys: APIKeys, lifetimeSeconds: Double) {
        self.apiKeys = apiKeys
        self.lifetime = .milliseconds(Int64(lifetimeSeconds * 1000))
    }

    func principal(for token: String) async throws -> Principal? {
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0.value(for: token, now: now) }) { return cached }
        let principal = try await apiKeys.authenticate(token: token)
        entries.withLock { $0.set(principal, for: token, expires: now.advanced(by: lifetime), now: now) }
        return principal
    }
}
