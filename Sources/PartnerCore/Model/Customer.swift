import Foundation

public enum CustomerStatus: String, Sendable, Codable, CaseIterable {
    case normal
    case purchaseRestricted = "purchase_restricted"
    case frozen
}

/// The two kinds of restriction (DESIGN §2).
public enum RestrictionType: String, Sendable, Codable, CaseIterable {
    /// No buying, renewing or changing; resources stay usable.
    case purchase
    /// As `purchase`, and every active pay-per-use resource is frozen.
    case purchaseAndResources = "purchase_and_resources"

    /// The customer status this restriction puts in place.
    public var customerStatus: CustomerStatus {
        switch self {
        case .purchase: .purchaseRestricted
        case .purchaseAndResources: .frozen
        }
    }
}

/// What a caller may do to a customer now: the console's Operation column.
public enum CustomerOperation: String, Sendable, Codable, CaseIterable {
    case restrictPurchaseAndFreezeResources = "restrict_purchase_and_freeze_resources"
    case restrictPurchase = "restrict_purchase"
    case unrestrictPurchaseAndUnfreezeResources = "unrestrict_purchase_and_unfreeze_resources"
    case unrestrictPurchase = "unrestrict_purchase"
}

public struct Restriction: Sendable, Codable, Equatable {
    public var id: RestrictionID
    public var type: RestrictionType
    public var reason: String
    public var appliedBy: ActorRef
    public var appliedAt: Date
    public var agreementVersion: String?
    /// When the batch job lifts it by itself (a scheduled lift), unless it is lifted earlier.
    public var liftAt: Date?
    /// Who decided it: a person (`manual`) or the customer's budget (`budget`, actor system).
    public var origin: RestrictionOrigin
}

/// Where a restriction came from (DESIGN §10): a budget lifts only its own.
public enum RestrictionOrigin: String, Sendable, Codable, CaseIterable {
    case manual, budget
}

public struct Customer: Sendable, Codable, Equatable {
    public var id: CustomerID
    public var partnerId: PartnerID
    public var distributorId: DistributorID
    public var name: String
    /// Picks the retention policy (DESIGN §9).
    public var level: CustomerLevel
    public var status: CustomerStatus
    public var activeRestriction: Restriction?
    public var availableOperations: [CustomerOperation]
    public var createdAt: Date
    /// Counts by billing mode and state; filled on the detail view only.
    public var resourceCounts: ResourceCounts?
    /// The customer's budget use, when it has a budget.
    public var budget: BudgetSummary?
}

/// Resource counts, `billing_mode → state → count`, with every combination present.
public struct ResourceCounts: Sendable, Codable, Equatable {
    public var prepaid: [String: Int]
    public var payPerUse: [String: Int]
    public var total: Int

    /// A new customer's counts: every billing mode and state at zero.
    public static var zero: ResourceCounts {
        let zero = Dictionary(uniqueKeysWithValues: ResourceState.allCases.map { ($0.rawValue, 0) })
        return ResourceCounts(prepaid: zero, payPerUse: zero, total: 0)
    }
}
