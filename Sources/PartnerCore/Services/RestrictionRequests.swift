import Foundation

/// A request to restrict a customer (the console's dialog).
public struct FreezeRequest: Sendable {
    public var type: RestrictionType
    public var reason: String?
    public var agreementAccepted: Bool
    public var verificationCode: String?
    /// A scheduled lift (DESIGN §9): the batch job lifts the restriction then.
    public var liftAt: Date?

    public init(
        type: RestrictionType? = nil, reason: String?, agreementAccepted: Bool? = nil, verificationCode: String? = nil,
        liftAt: Date? = nil
    ) {
        self.type = type ?? .purchaseAndResources
        self.reason = reason
        self.agreementAccepted = agreementAccepted ?? false
        self.verificationCode = verificationCode
        self.liftAt = liftAt
    }
}

/// A request to lift a customer's restriction. `type`, when given, must name the active one.
public struct UnfreezeRequest: Sendable {
    public var type: RestrictionType?
    public var reason: String?
    public var verificationCode: String?

    public init(type: RestrictionType? = nil, reason: String?, verificationCode: String? = nil) {
        self.type = type
        self.reason = reason
        self.verificationCode = verificationCode
    }
}

public struct FreezeResult: Sendable, Codable, Equatable {
    public var customerId: CustomerID
    public var status: CustomerStatus
    public var restrictionId: RestrictionID
    public var type: RestrictionType
    public var frozenResources: Int
    public var retentionUntil: Date?
    public var agreementVersion: String?
    public var liftAt: Date?
}

/// What a freeze would do, changing nothing (DESIGN §9, impact preview).
public struct FreezePreview: Sendable, Codable, Equatable {
    /// A prepaid resource whose grace would end while the customer is restricted: it cannot
    /// be renewed then, so it would be frozen (and later released) by its own expiry.
    public struct PrepaidExpiry: Sendable, Codable, Equatable {
        public var resourceId: ResourceID
        public var expiresAt: Date
        public var graceUntil: Date
    }

    public var dryRun = true
    public var customerId: CustomerID
    public var type: RestrictionType
    /// Active pay-per-use resources the freeze would freeze (0 for `purchase`).
    public var frozenResources: Int
    /// When their retention would end (`purchase_and_resources` only).
    public var retentionUntil: Date?
    /// The stored data of those resources: deleted when their retention ends.
    public var dataBytesAtRisk: Int
    /// Up to `PrepaidExpiry.listed` of them, soonest grace end first.
    public var prepaidExpiring: [PrepaidExpiry]
    public var prepaidExpiringTotal: Int
    public var liftAt: Date?
}

public struct UnfreezeResult: Sendable, Codable, Equatable {
    public var customerId: CustomerID
    public var status: CustomerStatus
    public var restrictionId: RestrictionID
    public var unfrozenResources: Int
    /// Resources the retention sweep already released: their data is gone for good.
    public var releasedResources: Int
    /// Up to 100 of those, so the console can name them.
    public var notRecoverableResourceIds: [ResourceID]
}

/// One customer's outcome in a batch.
public struct BatchOutcome<Result: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable { case succeeded, failed }
    public struct Failure: Sendable, Codable, Equatable {
        public var code: String
        public var message: String
    }

    public var customerId: CustomerID
    public var outcome: Outcome
    public var result: Result?
    public var error: Failure?
}
