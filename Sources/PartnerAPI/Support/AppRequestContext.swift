import Foundation
import Hummingbird
import NIOCore
import PartnerCore
import Postgres

/// Per-request state: the request id (echoed as `X-Request-ID` and written to the audit
/// log) and the authenticated principal.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String
    public var principal: Principal?
    /// The API key the request authenticated with (what rate limits count by).
    public var apiKeyID: UUID?
    /// The connection the request came on; its peer is read only when needed (`clientAddress`).
    private let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.requestID = UUID.random().lowercasedString
        self.principal = nil
        self.apiKeyID = nil
    }

    /// The client's IP address (without its port): what unknown API keys are counted by.
    /// Behind a proxy every client shares the proxy's address, and so its limit.
    var clientAddress: String { channel?.remoteAddress?.ipAddress ?? "unknown" }

    /// The authenticated principal; the authentication middleware guarantees one under /v1.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw PartnerError(.unauthenticated, "send an API key as 'Authorization: Bearer <key>'") }
        return principal
    }

    func change() throws -> ChangeContext {
        ChangeContext(principal: try requirePrincipal(), requestID: requestID)
    }
}
