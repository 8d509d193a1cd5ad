import Foundation

/// Who is calling: the owner of an API key, with the tenants above it resolved once at
/// authentication so every scoping check is a comparison, not a query.
public struct Principal: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case `operator`, distributor, partner, customer
    }

    public var kind: Kind
    /// The principal's own id: an operator's, a distributor's, a partner's or a customer's,
    /// as `kind` says (the typed forms are `distributorID`, `partnerID` and `customerID`).
    public var id: UUID
    /// The distributor above a partner or customer (the principal itself for a distributor).
    public var distributorID: DistributorID?
    /// The partner above a customer (the principal itself for a partner).
    public var partnerID: PartnerID?
    /// A suspended distributor or partner (or a partner under a suspended distributor): it
    /// may read, and every mutating call answers `actor_suspended`.
    public var isSuspended = false

    public init(kind: Kind, id: UUID, distributorID: DistributorID? = nil, partnerID: PartnerID? = nil) {
        self.kind = kind
        self.id = id
        self.distributorID = distributorID ?? (kind == .distributor ? DistributorID(id) : nil)
        self.partnerID = partnerID ?? (kind == .partner ? PartnerID(id) : nil)
    }

    /// A distributor acting for itself.
    public static func distributor(_ id: DistributorID) -> Principal { Principal(kind: .distributor, id: id.uuid) }

    /// A partner under `distributorID`.
    public static func partner(_ id: PartnerID, of distributorID: DistributorID) -> Principal {
        Principal(kind: .partner, id: id.uuid, distributorID: distributorID)
    }

    /// A customer of `partnerID` under `distributorID`.
    public static func customer(_ id: CustomerID, of partnerID: PartnerID, under distributorID: DistributorID) -> Principal {
        Principal(kind: .customer, id: id.uuid, distributorID: distributorID, partnerID: partnerID)
    }

    /// The customer this principal is, if it is one.
    public var customerID: CustomerID? { kind == .customer ? CustomerID(id) : nil }

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
