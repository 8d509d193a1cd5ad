import Foundation

/// Who is calling: the owner of an API key, with the tenants above it resolved once at
/// authentication so every scoping check is a comparison, not a query.
public struct Principal: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case `operator`, distributor, partner, customer
    }

    public var kind: Kind
    public var id: UUID
    /// The distributor above a partner or customer (the principal itself for a distributor).
    public var distributorID: UUID?
    /// The partner above a customer (the principal itself for a partner).
    public var partnerID: UUID?
    /// A suspended distributor or partner (or a partner under a suspended distributor): it
    /// may read, and every mutating call answers `actor_suspended`.
    public var isSuspended = false

    public init(kind: Kind, id: UUID, distributorID: UUID? = nil, partnerID: UUID? = nil) {
        self.kind = kind
        self.id = id
        self.distributorID = distributorID ?? (kind == .distributor ? id : nil)
        self.partnerID = partnerID ?? (kind == .partner ? id : nil)
    }

    /// The identity recorded as actor on audit events and restrictions.
    public var actorKind: String { kind.rawValue }
}

/// Who caused a change and in which request, as the audit log records it.
public struct ChangeContext: Sendable {
    public var principal: Principal
    public var requestID: String?
    /// The request's claimed `Idempotency-Key`, whose answer the work's transaction stores.
    public var idempotency: IdempotentClaim?

    public init(principal: Principal, requestID: String? = nil, idempotency: IdempotentClaim? = nil) {
        self.principal = principal
        self.requestID = requestID
        self.idempotency = idempotency
    }
}
