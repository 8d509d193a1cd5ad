import Foundation

/// How long a budget's spend accumulates (DESIGN §10).
public enum BudgetPeriod: String, Sendable, Codable, CaseIterable {
    /// Starts again at 00:00 UTC on the 1st of each month.
    case monthly
    /// One period, from when the budget was set (or its period last changed).
    case oneTime = "one_time"
}

/// What happens when a period's spend reaches the budget (DESIGN §10).
public enum BudgetPolicy: String, Sendable, Codable, CaseIterable {
    /// The 100 % alert only.
    case notify
    case restrictPurchase = "restrict_purchase"
    /// Needs the agreement, as a freeze does.
    case restrictPurchaseAndFreezeResources = "restrict_purchase_and_freeze_resources"

    /// The restriction the budget applies at 100 %; none for `notify`.
    public var restrictionType: RestrictionType? {
        switch self {
        case .notify: nil
        case .restrictPurchase: .purchase
        case .restrictPurchaseAndFreezeResources: .purchaseAndResources
        }
    }
}

/// A customer's budget as of its last settlement (at most one settlement interval old).
/// Money is a decimal string in the platform's currency, never a binary floating point.
public struct Budget: Sendable, Codable, Equatable {
    public var customerId: CustomerID
    public var amount: String
    public var period: BudgetPeriod
    public var onExhaustion: BudgetPolicy
    public var periodStart: Date
    public var spent: String
    public var remaining: String
    /// Spent as a percentage of the amount, rounded to two decimals (for display).
    public var percentUsed: Double
    /// The alerts already sent this period: 75, 90, 100.
    public var thresholdsReached: [Int]
    /// The agreement accepted for the freeze policy.
    public var agreementVersion: String?
    public var setBy: ActorRef
    public var updatedAt: Date
    /// The customer's threshold alerts, newest first (the last 50, this and earlier
    /// periods); on `GET` only.
    public var alerts: [BudgetAlert]?
}

/// One `budget.threshold_reached` event, as the console's alert history lists it.
public struct BudgetAlert: Sendable, Codable, Equatable {
    public var percent: Int
    public var spent: String
    public var amount: String
    public var periodStart: Date
    public var occurredAt: Date
}

/// A customer list's view of its budget.
public struct BudgetSummary: Sendable, Codable, Equatable {
    public var amount: String
    public var spent: String
    public var percentUsed: Double
    public var onExhaustion: BudgetPolicy
}

/// A budget as its setter asks for it (`PUT /v1/customers/{cid}/budget`).
public struct BudgetRequest: Sendable {
    public var amount: String?
    public var period: BudgetPeriod?
    public var onExhaustion: BudgetPolicy?
    public var agreementAccepted: Bool
    public var verificationCode: String?

    public init(
        amount: String?, period: BudgetPeriod?, onExhaustion: BudgetPolicy?, agreementAccepted: Bool? = nil,
        verificationCode: String? = nil
    ) {
        self.amount = amount
        self.period = period
        self.onExhaustion = onExhaustion
        self.agreementAccepted = agreementAccepted ?? false
        self.verificationCode = verificationCode
    }
}

/// The answer to removing a budget.
public struct RemovedBudget: Sendable, Codable, Equatable {
    public var customerId: CustomerID
    /// The budget's own restriction was active and is lifted with it.
    public var restrictionLifted: Bool
}
