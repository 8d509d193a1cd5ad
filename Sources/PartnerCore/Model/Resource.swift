import Foundation
import Postgres

public enum BillingMode: String, Sendable, Codable, CaseIterable {
    /// Yearly/monthly: paid ahead, never frozen or released.
    case prepaid
    /// Charged by usage: frozen by a `purchase_and_resources` restriction.
    case payPerUse = "pay_per_use"
}

/// A resource's place in its lifecycle (DESIGN §9, schema 0014).
public enum ResourceState: String, Sendable, Codable, CaseIterable {
    case active
    /// Prepaid, past `expires_at`: still usable and renewable until `grace_until`.
    case expired
    /// Unusable: frozen by a restriction (pay-per-use) or by the end of its grace (prepaid).
    case frozen
    /// Its data deleted at the end of its retention; final.
    case released
}

/// Why a resource is frozen; kept once it is released.
public enum FrozenReason: String, Sendable, Codable, CaseIterable {
    /// A `purchase_and_resources` restriction froze it (pay-per-use); a lift reactivates it.
    case restriction
    /// Its grace period after expiry ended (prepaid); a renewal reactivates it.
    case expired
}

public struct Resource: Sendable, Codable, Equatable {
    public var id: ResourceID
    public var customerId: CustomerID
    public var type: String
    public var billingMode: BillingMode
    public var state: ResourceState
    public var spec: PostgresJSON
    public var expiresAt: Date?
    public var frozenAt: Date?
    public var retentionUntil: Date?
    public var releasedAt: Date?
    public var createdAt: Date
    public var frozenReason: FrozenReason?
    /// Prepaid, once expired: when its grace period ends (and it is frozen).
    public var graceUntil: Date?
}

extension PostgresJSON: Codable {
    /// Encoded as the JSON value itself, not as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(JSONValue(parsing: text))
    }

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(JSONValue.self)
        try self.init(encoding: value)
    }
}
