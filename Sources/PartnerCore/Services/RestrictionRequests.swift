import Foundation

/// A request to restrict a customer (the console's dialog).
public struct FreezeRequest: Sendable {
    public var type: RestrictionType
    public var reason: String?
    public var agreementAccepted: Bool
    public var verificationCode: String?

    public init(type: RestrictionType? = nil, reason: String?, agreementAccepted: Bool? = nil, verificationCode: String? = nil) {
        self.type = type ?? .purchaseAndResources
        self.reason = reason
        self.agreementAccepted = agreementAccepted ?? false
        self.verificationCode = verificationCode
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
    public var customerId: UUID
    public var status: CustomerStatus
    public var restrictionId: UUID
    public var type: RestrictionType
    public var frozenResources: Int
    public var retentionUntil: Date?
    public var agreementVersion: String?
}

public struct UnfreezeResult: Sendable, Codable, Equatable {
    public var customerId: UUID
    public var status: CustomerStatus
    public var restrictionId: UUID
    public var unfrozenResources: Int
    /// Resources the retention sweep already released: their data is gone for good.
    public var releasedResources: Int
    /// Up to 100 of those, so the console can name them.
    public var notRecoverableResourceIds: [UUID]
}

/// One customer's outcome in a batch.
public struct BatchOutcome<Result: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable { case succeeded, failed }
    public struct Failure: Sendable, Codable, Equatable {
        public var code: String
        public var message: String
    }

    public var customerId: UUID
    public var outcome: Outcome
    public var result: Result?
    public var error: Failure?
}
